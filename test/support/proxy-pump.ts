import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Pacer } from './pacer.js';

export interface BodyPlan {
  /** Offset of a byte to flip. */
  corruptAt?: number;
  /** Stop after this many bytes... */
  cutAt?: number;
  /** ...and then close the connection ('reset') or keep it open sending nothing ('stall'). */
  cutMode?: 'reset' | 'stall';
  pacers: Pacer[];
  onBytes(total: number): void;
}

function closedOrDrained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Ends the connection after pending bytes are flushed, so exactly the bytes written arrive. */
function closeAfterFlush(res: ServerResponse): void {
  const sock = res.socket;
  if (!sock) return;
  sock.end();
  sock.once('finish', () => sock.destroy());
}

/**
 * Copies an upstream body to the client with backpressure (waits for 'drain'), applying
 * corruption, pacing and cut-offs. Resolves when the body is done or abandoned.
 */
export async function pumpBody(src: Readable, res: ServerResponse, plan: BodyPlan): Promise<void> {
  let sent = 0;
  const slice = plan.pacers.length ? Math.min(...plan.pacers.map((p) => p.sliceSize())) : Infinity;
  const cut = async (): Promise<void> => {
    // Destroyed before its end (and, at cutAt 0, before anyone iterated it) an undici body emits an abort error; unheard it would crash the process.
    src.on('error', () => undefined);
    src.destroy();
    if (plan.cutMode === 'reset') {
      closeAfterFlush(res);
    } else if (!res.destroyed) {
      await once(res, 'close');
    }
  };
  if (plan.cutAt === 0) {
    res.flushHeaders();
    return cut();
  }
  for await (const chunk of src) {
    let buf = chunk as Buffer;
    const c = plan.corruptAt;
    if (c !== undefined && c >= sent && c < sent + buf.length) {
      buf = Buffer.from(buf);
      buf[c - sent] = (buf[c - sent] ?? 0) ^ 0xff;
    }
    let reachedCut = false;
    if (plan.cutAt !== undefined && sent + buf.length >= plan.cutAt) {
      buf = buf.subarray(0, plan.cutAt - sent);
      reachedCut = true;
    }
    for (let off = 0; off < buf.length; off += slice) {
      const part = buf.subarray(off, Math.min(buf.length, off + slice));
      for (const p of plan.pacers) await p.take(part.length);
      if (res.destroyed) {
        src.destroy();
        return;
      }
      const ok = res.write(part);
      sent += part.length;
      plan.onBytes(sent);
      if (!ok) await closedOrDrained(res);
    }
    if (reachedCut) return cut();
  }
  res.end();
}
