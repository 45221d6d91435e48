import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatListen, parseListen } from '../../src/config/listen.js';

describe('parseListen', () => {
  const good: Array<[string | number, string, number]> = [
    ['127.0.0.1:5000', '127.0.0.1', 5000],
    ['0.0.0.0:80', '0.0.0.0', 80],
    ['localhost:8080', 'localhost', 8080],
    ['[::1]:5000', '::1', 5000],
    ['[::]:5000', '::', 5000],
    [':5000', '0.0.0.0', 5000],
    ['5000', '127.0.0.1', 5000],
    [5000, '127.0.0.1', 5000],
    ['127.0.0.1:0', '127.0.0.1', 0],
  ];
  for (const [input, host, port] of good) {
    it(`reads ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parseListen(input), { host, port });
    });
  }

  const bad: Array<string | number> = ['abc', '', '127.0.0.1', '127.0.0.1:', ':', '1.2.3.4:70000', '::1:5000', '[127.0.0.1]:5000',
    '999.1.1.1:5000', 'host name:5000', 'http://localhost:5000', 70000, -1, 1.5];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseListen(input), /^Error: expected HOST:PORT/);
    });
  }

  it('hints at brackets for an unbracketed IPv6 address', () => {
    assert.throws(() => parseListen('::1:5000'), /brackets/);
  });

  it('formats addresses so they parse back', () => {
    for (const text of ['127.0.0.1:5000', '[::1]:5000', 'localhost:1']) {
      assert.equal(formatListen(parseListen(text)), text);
    }
  });
});
