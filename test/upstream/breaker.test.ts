/** The circuit breaker on an injected clock: opens, fails fast, probes once, closes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Breaker, type BreakerState } from '../../src/upstream/breaker.js';

function breaker(threshold = 3, coolDownMs = 1_000) {
  let now = 0;
  const changes: BreakerState[] = [];
  const b = new Breaker({ threshold, coolDownMs, now: () => now, onChange: (s) => changes.push(s) });
  return { b, changes, advance: (ms: number) => (now += ms) };
}

const failOnce = (b: Breaker): void => b.failed(b.admit());

describe('upstream circuit breaker', () => {
  test('opens after N consecutive failures and then rejects without dialling', () => {
    const { b, changes } = breaker(3);
    failOnce(b);
    failOnce(b);
    assert.equal(b.state, 'closed');
    failOnce(b);
    assert.equal(b.state, 'open');
    const a = b.admit();
    assert.equal(a.kind, 'reject');
    assert.deepEqual(changes, ['open']);
  });

  test('a success in between resets the count', () => {
    const { b } = breaker(3);
    failOnce(b);
    failOnce(b);
    b.succeeded(b.admit());
    failOnce(b);
    failOnce(b);
    assert.equal(b.state, 'closed');
  });

  test('after the cool-down exactly one probe goes; its failure reopens for another cool-down', () => {
    const { b, advance, changes } = breaker(1, 1_000);
    failOnce(b);
    advance(999);
    assert.equal(b.admit().kind, 'reject');
    advance(1);
    const probe = b.admit();
    assert.equal(probe.kind, 'probe');
    assert.equal(b.admit().kind, 'reject', 'only one probe at a time');
    b.failed(probe);
    assert.equal(b.state, 'open');
    advance(500);
    const r = b.admit();
    assert.equal(r.kind, 'reject');
    assert.equal(r.kind === 'reject' ? r.retryInMs : -1, 500);
    assert.deepEqual(changes, ['open', 'half-open', 'open']);
  });

  test('a successful probe closes the breaker', () => {
    const { b, advance, changes } = breaker(1, 100);
    failOnce(b);
    advance(100);
    const probe = b.admit();
    b.succeeded(probe);
    assert.equal(b.state, 'closed');
    assert.equal(b.admit().kind, 'pass');
    assert.deepEqual(changes, ['open', 'half-open', 'closed']);
  });

  test('an abandoned probe lets the next request probe', () => {
    const { b, advance } = breaker(1, 100);
    failOnce(b);
    advance(100);
    b.abandoned(b.admit());
    assert.equal(b.admit().kind, 'probe');
  });

  test('failures of requests admitted before it opened do not extend the cool-down', () => {
    const { b, advance } = breaker(2, 100);
    const early = b.admit();
    failOnce(b);
    failOnce(b);
    advance(60);
    b.failed(early);
    advance(40);
    assert.equal(b.admit().kind, 'probe');
  });

  test('threshold 0 never opens', () => {
    const { b } = breaker(0);
    for (let i = 0; i < 100; i++) failOnce(b);
    assert.equal(b.state, 'closed');
    assert.equal(b.admit().kind, 'pass');
  });
});
