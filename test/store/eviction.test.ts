/** Watermarks, LRU order, in-use and pinned content, reservations. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Evictor, type EvictionPolicy } from '../../src/store/cap/eviction.js';
import { InUse } from '../../src/store/cap/in-use.js';
import { Recency } from '../../src/store/cap/recency.js';
import { Readable } from 'node:stream';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const POLICY: EvictionPolicy = { maxSize: 100, highWatermark: 0.9, lowWatermark: 0.5 };

async function setup(sizes: number[], policy = POLICY, pinned: string[] = []) {
  let clock = 0;
  const recency = new Recency(undefined, { now: () => ++clock });
  const inUse = new InUse();
  const removed: string[] = [];
  const evictor = new Evictor(policy, {
    recency,
    inUse: (x) => inUse.has(x),
    protectedDigests: async () => new Set(pinned),
    remove: async (x) => {
      removed.push(x);
    },
  });
  sizes.forEach((s, i) => recency.add(d(i + 1), s));
  return { recency, inUse, removed, evictor };
}

describe('Evictor', () => {
  it('does nothing at or below the high watermark', async () => {
    const { evictor, removed } = await setup([30, 30, 30]);
    const r = await evictor.run();
    assert.equal(r.evicted, 0);
    assert.deepEqual(removed, []);
  });

  it('above the high watermark, evicts least recently used until below the low one', async () => {
    const { evictor, removed, recency } = await setup([30, 30, 30, 5]);
    recency.touch(d(1));
    const r = await evictor.run();
    assert.deepEqual(removed, [d(2), d(3)]);
    assert.equal(r.bytesAfter, 35);
    assert.ok(r.reachedTarget);
  });

  it('skips content in use and pinned content', async () => {
    const { evictor, removed, inUse } = await setup([30, 30, 30, 5], POLICY, [d(2)]);
    const release = inUse.hold(d(1));
    const r = await evictor.run();
    assert.deepEqual(removed, [d(3), d(4)]);
    assert.equal(r.reachedTarget, false, '60 bytes left: pinned and in use');
    release();
    await evictor.run();
    assert.ok(!removed.includes(d(2)));
  });

  it('a lease lasts until the stream closes', async () => {
    const inUse = new InUse();
    const s = inUse.track(d(1), Readable.from(['a', 'b']));
    assert.ok(inUse.has(d(1)));
    for await (const _ of s) void _;
    await new Promise((r) => setImmediate(r));
    assert.equal(inUse.has(d(1)), false);
  });

  it('a reservation makes room before the write begins, and counts until released', async () => {
    const { evictor, removed, recency } = await setup([10, 40, 15]);
    const release = await evictor.reserve(30);
    assert.deepEqual(removed, [d(1), d(2)], '65 + 30 > 90: evicted down to 50 - 30');
    assert.equal(evictor.reservedBytes, 30);
    recency.add(d(9), 30);
    release();
    release();
    assert.equal(evictor.reservedBytes, 0);
    assert.equal((await evictor.run()).evicted, 0);
  });

  it('is off without a cap', async () => {
    const { evictor, removed } = await setup([1000], { maxSize: 0, highWatermark: 0.9, lowWatermark: 0.5 });
    await evictor.reserve(10_000);
    evictor.kick();
    await evictor.run();
    await evictor.idle();
    assert.deepEqual(removed, []);
  });

  it('kick runs a pass in the background; idle waits for it', async () => {
    const { evictor, removed, recency } = await setup([50, 30]);
    recency.add(d(3), 20);
    evictor.kick();
    await new Promise((r) => setImmediate(r));
    await evictor.idle();
    assert.deepEqual(removed, [d(1)]);
  });
});
