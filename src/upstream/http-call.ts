/** One upstream exchange's result, before it is turned into an outcome. */
import type { Dispatcher } from 'undici';
import type { Cause } from './types.js';

export type Call =
  /** `location`: the other origin a redirect led to (a CDN), which later requests may ask directly. */
  | { readonly kind: 'response'; readonly res: Dispatcher.ResponseData; readonly location?: string }
  | { readonly kind: 'error'; readonly cause: Cause };

export function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  if (Array.isArray(v)) return v[0];
  return v;
}

export async function dump(res: Dispatcher.ResponseData): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    // The connection is discarded by undici when the dump fails; nothing more to release.
  }
}

/** Reads a small body whole, refusing more than `limit` bytes. */
export async function readLimited(res: Dispatcher.ResponseData, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > limit) {
      res.body.destroy();
      return undefined;
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
