/** Tar entries of a bundle into the store: blobs streamed and verified, small files read. */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../oci/digest.js';
import type { BlobStore } from '../store/blob-store.js';
import { WriterSink } from '../store/writer-sink.js';

export interface Loaded {
  blobs: number;
  bytes: number;
  /** Already in the store with the same size. */
  skipped: number;
}

export async function readEntry(entry: AsyncIterable<unknown>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of entry) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    n += b.length;
    if (n > limit) throw new Error('bundle metadata file is too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** One `blobs/<alg>/<hex>` entry; a digest mismatch rejects and leaves nothing behind. */
export interface TarEntry extends AsyncIterable<unknown> {
  readonly header: { readonly size: number };
}

export async function storeEntry(store: BlobStore, d: Digest, entry: TarEntry, loaded: Loaded): Promise<void> {
  const size = entry.header.size;
  const have = await store.stat(d);
  if (have && have.size === size) {
    await pipeline(entry, new Writable({ write: (_c, _e, cb) => cb() }));
    loaded.skipped++;
    return;
  }
  const writer = await store.begin(d, size);
  try {
    await pipeline(entry, new WriterSink(writer));
  } catch (err) {
    await writer.abort();
    throw err;
  }
  try {
    await writer.commit();
  } catch (err) {
    throw new Error(`${d.value}: ${err instanceof Error ? err.message : 'does not match its digest'}`);
  }
  loaded.blobs++;
  loaded.bytes += size;
}
