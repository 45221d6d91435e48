import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../src/config/units.js';

describe('parseDuration', () => {
  const good: Array<[string | number, number]> = [
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1.5s', 1_500],
    ['1m30s500ms', 90_500],
    [' 10s ', 10_000],
    ['0', 0],
    [0, 0],
    [1500, 1500],
  ];
  for (const [input, expected] of good) {
    it(`reads ${JSON.stringify(input)} as ${expected}ms`, () => {
      assert.equal(parseDuration(input), expected);
    });
  }

  const bad: Array<string | number> = ['5x', '', 'abc', '-5s', '5', '1.5', '5 m', '5M', 'm', '1h-30m', -1, Number.NaN, Infinity];
  for (const input of bad) {
    it(`rejects ${typeof input === "string" ? JSON.stringify(input) : String(input)}`, () => {
      assert.throws(() => parseDuration(input), /invalid duration/);
    });
  }

  it('quotes the offending value and suggests valid forms', () => {
    assert.throws(() => parseDuration('5x'), (error: Error) => {
      assert.match(error.message, /^invalid duration "5x"/);
      assert.match(error.message, /30s/);
      return true;
    });
  });

  it('says a unit is missing for a bare number string', () => {
    assert.throws(() => parseDuration('300'), /missing unit/);
  });
});

describe('parseSize', () => {
  const good: Array<[string | number, number]> = [
    ['50GiB', 50 * 1024 ** 3],
    ['300MiB', 300 * 1024 ** 2],
    ['1KiB', 1024],
    ['2TiB', 2 * 1024 ** 4],
    ['1.5GB', 1_500_000_000],
    ['500MB', 500_000_000],
    ['1KB', 1000],
    ['3TB', 3e12],
    ['1024', 1024],
    ['1024B', 1024],
    ['10 gib', 10 * 1024 ** 3],
    ['0', 0],
    [0, 0],
    [4096, 4096],
  ];
  for (const [input, expected] of good) {
    it(`reads ${JSON.stringify(input)} as ${expected} bytes`, () => {
      assert.equal(parseSize(input), expected);
    });
  }

  const bad: Array<string | number> = ['5QB', '', 'GiB', '-1GiB', '1.5', '1.5B', 'ten', '5 G', -1, 1.5, Number.NaN];
  for (const input of bad) {
    it(`rejects ${typeof input === "string" ? JSON.stringify(input) : String(input)}`, () => {
      assert.throws(() => parseSize(input), /invalid size/);
    });
  }
});

describe('formatDuration / formatSize', () => {
  it('formats durations that parse back to the same value', () => {
    for (const ms of [0, 1, 250, 30_000, 90_500, 5_400_000, 172_800_000, 604_800_000 + 1]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(0), '0s');
  });

  it('formats sizes exactly with the largest dividing unit', () => {
    assert.equal(formatSize(50 * 1024 ** 3), '50GiB');
    assert.equal(formatSize(1_500_000_000), '1500MB');
    assert.equal(formatSize(1023), '1023');
    for (const bytes of [0, 1, 1023, 1024, 1_500_000_000, 50 * 1024 ** 3, 3e12]) {
      assert.equal(parseSize(formatSize(bytes)), bytes);
    }
  });
});
