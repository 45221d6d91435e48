/**
 * Issue 17, the suspected reader leak. A client that joined a fill and opens its reader only
 * after the commit (the old TailReader then handed over to the store's own stream and never
 * closed it) and leaves mid-blob must release everything: its file descriptor, its share of
 * the store's read budget and its in-use lease. Real store, size cap and fills; an in-memory
 * upstream serves the bytes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { parseDigest, type Digest } from '../../src/oci/digest.js';
import { PullThroughBlobs } from '../../src/proxy/blobs.js';
import { Fills } from '../../src/proxy/fill/fills.js';
import { Permits } from '../../src/proxy/fill/permits.js';
import { FsBlobStore } from '../../src/store/fs-blob-store.js';
import { layoutOf } from '../../src/store/paths.js';
import { SizeCap } from '../../src/store/cap/size-cap.js';
import type { Upstream } from '../../src/upstream/types.js';
import { seededBlob, type BlobContent } from '../support/blobgen.js';
import { openFilesUnder } from '../support/resources.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { waitUntil } from '../e2e/resilience-support.js';

const MiB = 1024 * 1024;
// Several of the store's largest reads (4 MiB), so its stream cannot end on its own before the client leaves.
const SIZE = 24 * MiB;

/** An upstream that serves blobs from memory, chunk by chunk, and knows nothing else. */
function memoryUpstream(blobs: ReadonlyMap<string, BlobContent>): Upstream {
  const absent = async (): Promise<{ kind: 'absent' }> => ({ kind: 'absent' });
  return {
    name: 'memory',
    host: 'memory.invalid',
    headManifest: absent,
    getManifest: absent,
    getJson: absent,
    statBlob: async (_r, d) => {
      const blob = blobs.get(d);
      return blob ? { kind: 'found', value: { size: blob.size } } : { kind: 'absent' };
    },
    // The body never breaks and the blobs are below the ranged-fetch size, so every fill asks for all of it once.
    getBlob: async (_r, d, req) => {
      const blob = blobs.get(d);
      if (!blob || req.from !== 0) return { kind: 'absent' };
      return { kind: 'found', value: { size: blob.size, start: 0, end: blob.size, body: Readable.from(blob.chunks(), { objectMode: false }) } };
    },
    close: async () => undefined,
  };
}

describe('reader leak: a client leaving a committed fill', () => {
  let tmp: TempDir;
  let store: FsBlobStore;
  let cap: SizeCap;
  let fills: Fills;
  let blobs: PullThroughBlobs;
  const served = new Map<string, BlobContent>();
  const upstream = memoryUpstream(served);

  before(async () => {
    tmp = await makeTempDir('reader-leak');
    cap = new SizeCap(layoutOf(tmp.path).state, { maxSize: 0, highWatermark: 0.9, lowWatermark: 0.8 }, {
      filling: (d) => fills.has(d),
      protectedDigests: async () => new Set(),
      remove: async () => undefined,
    });
    store = new FsBlobStore(tmp.path, false, { committed: (size, d) => cap.committed(d, size), removed: (_s, d) => cap.removed(d) });
    await store.init();
    const capped = cap.wrap(store);
    const none = (): void => undefined;
    const policy = { permits: new Permits(4), minSize: 1024 * MiB, connections: 1 };
    fills = new Fills(capped, { maxResumes: 3, totalTimeoutMs: 30_000 }, { started: none, finished: none, bytes: none, connections: none, resumed: none, storeError: none }, () => policy);
    blobs = new PullThroughBlobs(capped, fills);
  });

  after(async () => {
    await fills?.idle();
    await cap?.close();
    await tmp?.close();
  });

  interface Held {
    readonly readers: number;
    readonly leases: number;
    readonly files: readonly string[];
  }
  const held = async (): Promise<Held> => ({ readers: store.readers, leases: cap.inUse.size, files: await openFilesUnder(tmp.path) });

  /** The store holds what it held before: no stream, lease or descriptor on a file under the data dir left over. */
  async function assertReleased(what: string, baseline: Held): Promise<void> {
    const same = (h: Held): boolean => h.readers === baseline.readers && h.leases === baseline.leases && h.files.length === baseline.files.length;
    await waitUntil(`${what} to release the store`, async () => same(await held()), 3_000).catch(async (err: Error) =>
      assert.fail(`${err.message}: before ${JSON.stringify(baseline)}, now ${JSON.stringify(await held())}`),
    );
  }

  /** A new blob, served upstream only: each test fills its own. */
  function newBlob(seed: string): Digest {
    const blob = seededBlob(`reader-leak-${seed}`, SIZE, 'application/octet-stream');
    served.set(blob.digest, blob);
    return parseDigest(blob.digest)!;
  }

  /** Joins a cold fill, lets it commit, then opens: the reader starts after the commit. */
  async function readerAfterCommit(digest: Digest, range?: { start: number; end: number }): Promise<Readable> {
    const got = await blobs.open(upstream, 'leak/app', digest);
    assert.equal(got.kind, 'found');
    if (got.kind !== 'found') throw new Error('unreachable');
    assert.equal(got.value.cache, 'MISS');
    await fills.idle();
    assert.ok(await store.stat(digest), 'the fill committed');
    return got.value.open(range);
  }

  /** A slow client: takes one chunk, then hangs up with the rest unread. */
  async function leaveAfterOneChunk(reader: Readable): Promise<void> {
    await once(reader, 'readable');
    const chunk = reader.read() as Buffer | null;
    assert.ok(chunk && chunk.length > 0, 'the reader delivered bytes');
    reader.destroy();
    await once(reader, 'close');
  }

  test('a whole-blob reader opened after the commit and destroyed mid-blob releases its store stream', async () => {
    const baseline = await held();
    await leaveAfterOneChunk(await readerAfterCommit(newBlob('whole')));
    await assertReleased('a reader destroyed after the commit', baseline);
  });

  test('a Range reader opened after the commit and destroyed mid-range releases its store stream', async () => {
    const baseline = await held();
    await leaveAfterOneChunk(await readerAfterCommit(newBlob('range'), { start: 1 * MiB, end: SIZE - 2 * MiB }));
    await assertReleased('a Range reader destroyed after the commit', baseline);
  });

  test('later readers keep the full read size: no share of the read budget is lost to departed clients', async () => {
    const digests = ['budget-1', 'budget-2', 'budget-3'].map(newBlob);
    const probe = async (): Promise<number> => {
      const s = await store.open(digests[0]!);
      assert.ok(s);
      const hwm = s.readableHighWaterMark;
      s.destroy();
      await once(s, 'close');
      return hwm;
    };
    const baseline = await held();
    const readers = [];
    for (const d of digests) readers.push(await readerAfterCommit(d));
    const full = await probe();
    for (const r of readers) await leaveAfterOneChunk(r);
    await assertReleased('three departed readers', baseline);
    assert.equal(await probe(), full, 'a new reader gets the same read size as before the clients left');
  });
});
