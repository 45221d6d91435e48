/** The BlobStore contract on the local disk store. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import { FsBlobStore } from '../../src/store/fs-blob-store.js';
import { makeTempDir } from '../support/tempdir.js';
import { blobStoreConformance } from './conformance.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

describe('BlobStore conformance: FsBlobStore', () => {
  blobStoreConformance(async () => {
    const tmp = await makeTempDir('fs-conformance');
    const store = new FsBlobStore(tmp.path, false);
    await store.init();
    return { store, visible: () => filesUnder(store.layout.blobs), spooled: () => filesUnder(store.layout.tmp), close: () => tmp.close() };
  }, { largeSize: 3 * 1024 * 1024 + 17 });
});
