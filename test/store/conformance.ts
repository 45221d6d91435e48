/**
 * The BlobStore contract, run against any backend: the disk store, the S3 store (Ceph RGW),
 * the S3 store behind a local disk cache. Call inside a describe(); `make` builds a fresh,
 * empty store for the whole suite.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Readable } from 'node:stream';
import { parseDigest, type Digest } from '../../src/oci/digest.js';
import { DigestMismatchError, type BlobStore, type BlobWriter } from '../../src/store/blob-store.js';

export interface StoreUnderTest {
  readonly store: BlobStore;
  /** Every key or file name visible in the backend, to prove nothing partial appeared. */
  visible(): Promise<string[]>;
  /** The spool files in the backend's local temp directory. */
  spooled(): Promise<string[]>;
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** A blob size that takes the backend's multipart / large path. */
  readonly largeSize: number;
}

function digestOf(bytes: Buffer): Digest {
  return parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`)!;
}

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function writeInChunks(store: BlobStore, bytes: Buffer, expected: Digest, expectedSize?: number): Promise<BlobWriter> {
  const w = await store.begin(expected, expectedSize);
  for (let off = 0; off < bytes.length; off += 1024 * 1024) await w.writeAt(off, [bytes.subarray(off, Math.min(bytes.length, off + 1024 * 1024))]);
  return w;
}

export function blobStoreConformance(make: () => Promise<StoreUnderTest>, opts: ConformanceOptions): void {
  let sut: StoreUnderTest;
  before(async () => {
    sut = await make();
  });
  after(async () => {
    await sut.close();
  });

  test('put then stat, open, readAll; absent digests are misses', async () => {
    const bytes = Buffer.from('{"schemaVersion":2}');
    const d = digestOf(bytes);
    assert.equal(await sut.store.stat(d), undefined);
    assert.equal(await sut.store.open(d), undefined);
    assert.equal(await sut.store.readAll(d), undefined);
    await sut.store.put(d, bytes);
    assert.deepEqual(await sut.store.stat(d), { size: bytes.length });
    assert.deepEqual(await sut.store.readAll(d), bytes);
    assert.deepEqual(await collect((await sut.store.open(d))!), bytes);
  });

  test('put rejects content that does not match its digest', async () => {
    const d = digestOf(Buffer.from('right'));
    await assert.rejects(sut.store.put(d, Buffer.from('wrong')), DigestMismatchError);
    assert.equal(await sut.store.stat(d), undefined);
  });

  test('begin → writeAt (readable through a partial reader) → commit makes a large blob visible; ranges read', async () => {
    const bytes = randomBytes(opts.largeSize);
    const d = digestOf(bytes);
    const spooled = (await sut.spooled()).length;
    const w = await sut.store.begin(d, bytes.length);
    const half = Math.floor(bytes.length / 2);
    assert.equal(await w.writeAt(0, [bytes.subarray(0, half)]), half);
    // Concurrent readers follow the write while the fill runs, and keep their reader after commit.
    const partial = (await w.openPartial())!;
    const seen = Buffer.alloc(half);
    assert.equal(await partial.read(seen, 0), half);
    assert.ok(seen.equals(bytes.subarray(0, half)));
    assert.equal(await sut.store.stat(d), undefined, 'nothing visible before commit');
    await w.writeAt(half, [bytes.subarray(half)]);
    assert.equal(await sut.store.stat(d), undefined, 'nothing visible before commit');
    await w.commit();
    const tail = Buffer.alloc(bytes.length - half);
    assert.equal(await partial.read(tail, half), tail.length, 'a reader opened before the commit reads on after it');
    assert.ok(tail.equals(bytes.subarray(half)));
    await partial.close();
    assert.equal((await sut.spooled()).length, spooled, 'the spool file is gone after commit');
    assert.deepEqual(await sut.store.stat(d), { size: bytes.length });
    assert.ok((await collect((await sut.store.open(d))!)).equals(bytes));
    const ranges = [
      { start: 0, end: 0 },
      { start: 5, end: 1_000 },
      { start: bytes.length - 10, end: bytes.length - 1 },
      { start: half - 3, end: half + 3 },
    ];
    for (const r of ranges) assert.ok((await collect((await sut.store.open(d, r))!)).equals(bytes.subarray(r.start, r.end + 1)), `range ${r.start}-${r.end}`);
  });

  test('parts written out of order are hashed in order: the blob commits whole', async () => {
    const bytes = randomBytes(opts.largeSize);
    const d = digestOf(bytes);
    const w = await sut.store.begin(d, bytes.length);
    const a = Math.floor(bytes.length / 3);
    const b = Math.floor((2 * bytes.length) / 3);
    assert.equal(await w.writeAt(b, [bytes.subarray(b)]), 0, 'nothing contiguous from 0 yet');
    assert.equal(await w.writeAt(a, [bytes.subarray(a, b)]), 0);
    assert.equal(await w.writeAt(0, [bytes.subarray(0, a)]), bytes.length, 'the prefix covers every part once the first lands');
    await w.commit();
    assert.ok((await collect((await sut.store.open(d))!)).equals(bytes));
  });

  test('an empty blob commits', async () => {
    const bytes = Buffer.alloc(0);
    const d = digestOf(bytes);
    const w = await sut.store.begin(d, 0);
    await w.commit();
    assert.deepEqual(await sut.store.stat(d), { size: 0 });
    assert.equal((await collect((await sut.store.open(d))!)).length, 0);
  });

  test('a digest mismatch is rejected at commit, the temp file removed, nothing visible', async () => {
    const bytes = randomBytes(opts.largeSize);
    const d = digestOf(Buffer.from('some other content'));
    const before = await sut.visible();
    const spooled = (await sut.spooled()).length;
    const w = await writeInChunks(sut.store, bytes, d);
    await assert.rejects(w.commit(), DigestMismatchError);
    assert.equal((await sut.spooled()).length, spooled, 'the spool file is removed');
    assert.equal(await sut.store.stat(d), undefined);
    assert.deepEqual(await sut.visible(), before);
  });

  test('a size mismatch is rejected even when the digest matches', async () => {
    const bytes = randomBytes(10_000);
    const d = digestOf(bytes);
    const w = await writeInChunks(sut.store, bytes, d, bytes.length + 1);
    await assert.rejects(w.commit(), DigestMismatchError);
    assert.equal(await sut.store.stat(d), undefined);
  });

  test('abort discards the write: no temp file, nothing visible', async () => {
    const bytes = randomBytes(opts.largeSize);
    const d = digestOf(bytes);
    const before = await sut.visible();
    const spooled = (await sut.spooled()).length;
    const w = await writeInChunks(sut.store, bytes.subarray(0, Math.floor(bytes.length * 0.75)), d, bytes.length);
    await w.abort();
    assert.equal((await sut.spooled()).length, spooled, 'the spool file is removed');
    assert.equal(await sut.store.stat(d), undefined);
    assert.deepEqual(await sut.visible(), before);
  });

  test('two writers of the same digest both commit; the content is whole', async () => {
    const bytes = randomBytes(200_000);
    const d = digestOf(bytes);
    const [a, b] = [await writeInChunks(sut.store, bytes, d, bytes.length), await writeInChunks(sut.store, bytes, d, bytes.length)];
    await Promise.all([a.commit(), b.commit()]);
    assert.ok((await collect((await sut.store.open(d))!)).equals(bytes));
  });

  test('list yields every committed blob with its size; remove deletes', async () => {
    const bytes = randomBytes(3_000);
    const d = digestOf(bytes);
    await sut.store.put(d, bytes);
    const listed = new Map<string, number>();
    for await (const b of sut.store.list()) listed.set(b.digest, b.size);
    assert.equal(listed.get(d.value), bytes.length);
    assert.equal(listed.get(digestOf(Buffer.alloc(0)).value), 0);
    await sut.store.remove(d);
    assert.equal(await sut.store.stat(d), undefined);
    await sut.store.remove(d);
    for await (const b of sut.store.list()) assert.notEqual(b.digest, d.value);
  });

  test('sweep removes temp files left behind by an unfinished write', async () => {
    const bytes = randomBytes(100_000);
    const d = digestOf(bytes);
    const w = await writeInChunks(sut.store, bytes, d, bytes.length);
    assert.ok((await sut.store.sweep()) >= 1);
    assert.deepEqual(await sut.spooled(), []);
    await w.abort();
    assert.equal(await sut.store.stat(d), undefined);
  });
}
