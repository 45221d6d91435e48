/**
 * The peer listener of a cluster node (cluster.peerListen, never the client port): serves this
 * node's running fills to the other nodes, Range included, as the bytes arrive, the last byte
 * once the digest is verified (the fill's own reader). Only a peer presenting the shared secret
 * is served; anything else gets 401.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { PEER_FILL_PATH, PEER_SIZE_HEADER } from './peer-client.js';
import { formatListen, type ListenAddress } from '../config/index.js';
import { parseDigest, type Digest } from '../oci/digest.js';
import { parseRange } from '../oci/range.js';
import type { Fill } from '../proxy/fill/fill.js';

export interface PeerServerDeps {
  readonly listen: ListenAddress;
  readonly secret: string;
  /** This node's running fill of a digest. */
  readonly running: (digest: Digest) => Fill | undefined;
}

export interface PeerServer {
  /** host:port the other nodes reach this one on (written into this node's fill leases). */
  readonly address: string;
  close(): Promise<void>;
}

const hashOf = (s: string): Buffer => createHash('sha256').update(s).digest();

function error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

async function serve(deps: PeerServerDeps, expected: Buffer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Comparing digests of equal length keeps the check constant-time whatever was sent.
  const auth = req.headers.authorization ?? '';
  const given = hashOf(auth.startsWith('Bearer ') ? auth.slice(7) : '');
  if (!timingSafeEqual(given, expected)) return error(res, 401, 'UNAUTHORIZED', 'peer secret required');
  const url = req.url ?? '';
  const digest = req.method === 'GET' && url.startsWith(PEER_FILL_PATH) ? parseDigest(url.slice(PEER_FILL_PATH.length)) : undefined;
  const fill = digest ? deps.running(digest) : undefined;
  if (!fill) return error(res, 404, 'BLOB_UNKNOWN', 'no running fill of this blob');
  const ready = await fill.ready;
  if (!('size' in ready) || ready.size < 0) return error(res, 404, 'BLOB_UNKNOWN', 'the fill has no bytes to share');
  const size = ready.size;
  const range = parseRange(req.headers.range, size);
  if (range.kind === 'invalid' || range.kind === 'unsatisfiable') return error(res, 416, 'RANGE_INVALID', 'requested range not satisfiable', { 'content-range': `bytes */${size}` });
  const start = range.kind === 'range' ? range.start : 0;
  const end = range.kind === 'range' ? range.end : size - 1;
  let body;
  try {
    body = await fill.reader({ start, end });
  } catch {
    return error(res, 404, 'BLOB_UNKNOWN', 'the fill failed');
  }
  res.writeHead(range.kind === 'range' ? 206 : 200, {
    'content-type': 'application/octet-stream',
    'content-length': String(end - start + 1),
    [PEER_SIZE_HEADER]: String(size),
    ...(range.kind === 'range' ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  });
  // A fill that fails breaks the response: the peer sees a short body, never a clean end.
  await pipeline(body, res).catch(() => res.destroy());
}

export async function startPeerServer(deps: PeerServerDeps): Promise<PeerServer> {
  const expected = hashOf(deps.secret);
  const server = createServer((req, res) => {
    serve(deps, expected, req, res).catch(() => res.destroy());
  });
  server.listen(deps.listen.port, deps.listen.host);
  await once(server, 'listening');
  const bound = server.address() as AddressInfo;
  return {
    address: formatListen({ host: deps.listen.host, port: bound.port }),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
