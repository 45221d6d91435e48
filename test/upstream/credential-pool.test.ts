/** CredentialPool: choosing by remaining quota, resting at zero, floor crossings. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialPool, type PoolMember } from '../../src/upstream/credential-pool.js';

const A: PoolMember = { name: 'a', credentials: { username: 'a', password: 'pa' } };
const B: PoolMember = { name: 'b', credentials: { username: 'b', password: 'pb' } };

function headers(h: Record<string, string>): (name: string) => string | undefined {
  return (name) => h[name];
}

function pool(opts: { floor?: number; refuse?: boolean } = {}) {
  let now = 1_000_000;
  const floors: Array<[boolean, number | undefined]> = [];
  const p = new CredentialPool([A, B], { floor: opts.floor ?? 0, refuseWhenExhausted: opts.refuse ?? true, defaultRestMs: 60_000, now: () => now }, { floor: (below, best) => floors.push([below, best]) });
  return { p, floors, advance: (ms: number) => (now += ms) };
}

const memberOf = (p: CredentialPool): string => {
  const lease = p.reserve();
  assert.equal(lease.kind, 'use');
  if (lease.kind !== 'use') return '';
  lease.release();
  return lease.member.name;
};

describe('CredentialPool', () => {
  it('prefers an unseen member, then the one with the most left; ties go to the first', () => {
    const { p } = pool();
    assert.equal(memberOf(p), 'a');
    p.observe(A, 200, headers({ 'ratelimit-remaining': '5;w=3600' }));
    assert.equal(memberOf(p), 'b', 'b is unseen: as good as full');
    p.observe(B, 200, headers({ 'ratelimit-remaining': '7;w=3600' }));
    assert.equal(memberOf(p), 'b');
    p.observe(B, 200, headers({ 'ratelimit-remaining': '5;w=3600' }));
    assert.equal(memberOf(p), 'a');
  });

  it('reservations count: parallel pulls are spread before any answer comes', () => {
    const { p } = pool();
    p.observe(A, 200, headers({ 'ratelimit-remaining': '2;w=60' }));
    p.observe(B, 200, headers({ 'ratelimit-remaining': '1;w=60' }));
    const leases = [p.reserve(), p.reserve(), p.reserve()];
    assert.deepEqual(leases.map((l) => (l.kind === 'use' ? l.member.name : 'exhausted')), ['a', 'a', 'b']);
    assert.equal(p.reserve().kind, 'exhausted');
    for (const l of leases) if (l.kind === 'use') l.release();
  });

  it('a member at zero rests for the window, or Retry-After; then it is unknown again', () => {
    const { p, advance } = pool();
    p.observe(A, 200, headers({ 'ratelimit-remaining': '0;w=100' }));
    p.observe(B, 429, headers({ 'retry-after': '10' }));
    const lease = p.reserve();
    assert.equal(lease.kind, 'exhausted');
    assert.equal(lease.kind === 'exhausted' ? lease.retryAfterMs : 0, 10_000);
    assert.equal(p.pick().name, 'b', 'free requests still go out, with the member awake soonest');
    advance(10_000);
    assert.equal(memberOf(p), 'b');
    assert.deepEqual(p.snapshot().map((q) => [q.name, q.remaining, q.restingUntil !== undefined]), [['a', 0, true], ['b', undefined, false]]);
    advance(90_000);
    assert.equal(p.bestRemaining(), undefined);
  });

  it('a single credential lets the upstream decide when it is out', () => {
    const p = new CredentialPool([A], { floor: 0, refuseWhenExhausted: false, defaultRestMs: 60_000, now: () => 0 });
    p.observe(A, 429, headers({}));
    assert.equal(p.reserve().kind, 'use');
  });

  it('reports floor crossings once each way', () => {
    const { p, floors, advance } = pool({ floor: 3 });
    assert.equal(p.belowFloor(), false, 'unknown quota is not below the floor');
    p.observe(A, 200, headers({ 'ratelimit-remaining': '2;w=10' }));
    assert.equal(p.belowFloor(), false, 'b is unseen');
    p.observe(B, 200, headers({ 'ratelimit-remaining': '1;w=10' }));
    assert.equal(p.belowFloor(), true);
    assert.equal(p.belowFloor(), true);
    advance(10_000);
    assert.equal(p.belowFloor(), false);
    assert.deepEqual(floors, [[true, 2], [false, undefined]]);
  });
});
