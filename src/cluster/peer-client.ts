/**
 * Reads another node's running fill from its peer listener (see peer-server.ts): the
 * bytes from `from` on, as the owner writes them, its last byte once the owner verified it.
 */
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

/** Where a node's peer listener serves a running fill, by digest. */
export const PEER_FILL_PATH = '/fills/';
/** The blob's whole size, on a peer's answer (its Content-Length is that of the range). */
export const PEER_SIZE_HEADER = 'x-berth-blob-size';

export interface PeerBody {
  readonly size: number;
  readonly body: Readable;
}

export class PeerClient {
  private readonly agent: Agent;

  constructor(
    private readonly secret: string,
    /** A peer that sends nothing for this long is taken for dead (its stream breaks). */
    stallMs: number,
  ) {
    this.agent = new Agent({ connect: { timeout: 3_000 }, headersTimeout: stallMs, bodyTimeout: stallMs });
  }

  /** The fill's bytes from `from`; undefined when the peer has no such fill or cannot be reached. */
  async open(peer: string, digest: string, from: number): Promise<PeerBody | undefined> {
    try {
      const res = await request(`http://${peer}${PEER_FILL_PATH}${digest}`, {
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${this.secret}`, ...(from > 0 ? { range: `bytes=${from}-` } : {}) },
      });
      const size = Number(res.headers[PEER_SIZE_HEADER]);
      if (res.statusCode !== (from > 0 ? 206 : 200) || !Number.isSafeInteger(size) || size <= from) {
        await res.body.dump();
        return undefined;
      }
      return { size, body: res.body };
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
