/** Client authentication: htpasswd parsing, credential checks and their cache, access verdicts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { AccessPolicy } from '../../src/auth/access.js';
import { Authenticator } from '../../src/auth/authenticator.js';
import { parseHtpasswd } from '../../src/auth/htpasswd.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('parseHtpasswd', () => {
  it('keeps bcrypt entries of every prefix and reports the others by line and user', () => {
    const hash = bcrypt.hashSync('pw', 4);
    const text = [
      '# comment',
      `alice:${hash}`,
      `bob:${hash.replace('$2b$', '$2y$')}`,
      `carol:${hash.replace('$2b$', '$2a$')}`,
      'dave:$apr1$abc$def',
      'erin:{SHA}xyz=',
      '',
      'garbage',
      `alice:${hash}`,
    ].join('\n');
    const table = parseHtpasswd(text);
    assert.deepEqual([...table.users.keys()], ['alice', 'bob', 'carol']);
    assert.deepEqual(
      table.skipped.map((s) => [s.line, s.user]),
      [[5, 'dave'], [6, 'erin'], [8, ''], [9, 'alice']],
    );
    assert.ok(table.skipped.every((s) => !s.reason.includes('$apr1$abc')), 'hashes are never echoed');
  });
});

describe('Authenticator', () => {
  const hash = bcrypt.hashSync('s3cret', 4).replace('$2b$', '$2y$');

  function make(counter: { n: number }): Authenticator {
    return new Authenticator({
      htpasswdPath: '/virtual/htpasswd',
      tokens: [{ name: 'ci', token: 'tok-123' }],
      readText: async () => `alice:${hash}\n`,
      compare: async (password, h) => {
        counter.n++;
        return bcrypt.compare(password, h);
      },
    });
  }

  it('tells anonymous, valid and invalid clients apart', async () => {
    const calls = { n: 0 };
    const auth = make(calls);
    assert.deepEqual(await auth.load(), { ok: true, users: 1, skipped: [] });
    assert.deepEqual(await auth.authenticate(undefined), { kind: 'anonymous' });
    assert.deepEqual(await auth.authenticate(basic('alice', 's3cret')), { kind: 'user', name: 'alice' });
    assert.deepEqual(await auth.authenticate(basic('alice', 'wrong')), { kind: 'invalid' });
    assert.deepEqual(await auth.authenticate(basic('nobody', 's3cret')), { kind: 'invalid' });
    assert.deepEqual(await auth.authenticate('Bearer tok-123'), { kind: 'user', name: 'ci' });
    assert.deepEqual(await auth.authenticate(basic('anyone', 'tok-123')), { kind: 'user', name: 'ci' });
    assert.deepEqual(await auth.authenticate('Bearer nope'), { kind: 'invalid' });
    assert.deepEqual(await auth.authenticate('Digest abc'), { kind: 'invalid' });
    assert.deepEqual(await auth.authenticate('Basic !!!'), { kind: 'invalid' });
  });

  it('runs bcrypt once for many concurrent and repeated checks of the same credentials', async () => {
    const calls = { n: 0 };
    const auth = make(calls);
    await auth.load();
    const results = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(basic('alice', 's3cret'))));
    assert.ok(results.every((r) => r.kind === 'user'));
    await auth.authenticate(basic('alice', 's3cret'));
    assert.equal(calls.n, 1);
    // Failures are not remembered: each costs a bcrypt run.
    await auth.authenticate(basic('alice', 'bad'));
    await auth.authenticate(basic('alice', 'bad'));
    assert.equal(calls.n, 3);
    // A reload forgets what was verified.
    await auth.load();
    await auth.authenticate(basic('alice', 's3cret'));
    assert.equal(calls.n, 4);
  });

  it('keeps the previous users when the file cannot be read', async () => {
    let fail = false;
    const auth = new Authenticator({
      htpasswdPath: '/virtual/htpasswd',
      tokens: [],
      readText: async () => {
        if (fail) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
        return `alice:${hash}\n`;
      },
    });
    await auth.load();
    fail = true;
    assert.deepEqual(await auth.load(), { ok: false, error: 'ENOENT' });
    assert.deepEqual(await auth.authenticate(basic('alice', 's3cret')), { kind: 'user', name: 'alice' });
  });
});

describe('AccessPolicy', () => {
  const alice = { kind: 'user', name: 'alice' } as const;
  const bob = { kind: 'user', name: 'bob' } as const;
  const anon = { kind: 'anonymous' } as const;

  it('allows everyone everywhere when client auth is off', () => {
    const p = new AccessPolicy(false, [['private.test', { allow: ['alice'], anonymous: false }]]);
    assert.equal(p.check(anon, 'private.test'), 'allow');
    assert.equal(p.anyAnonymous, true);
  });

  it('with auth on: default any authenticated client; allow lists; anonymous upstreams', () => {
    const p = new AccessPolicy(true, [
      ['docker.io', undefined],
      ['private.test', { allow: ['alice'], anonymous: false }],
      ['public.test', { anonymous: true }],
    ]);
    assert.equal(p.check(anon, 'docker.io'), 'challenge');
    assert.equal(p.check(bob, 'docker.io'), 'allow');
    assert.equal(p.check(alice, 'private.test'), 'allow');
    assert.equal(p.check(bob, 'private.test'), 'deny');
    assert.equal(p.check(anon, 'private.test'), 'challenge');
    assert.equal(p.check(anon, 'public.test'), 'allow');
    assert.equal(p.anyAnonymous, true);
    assert.equal(new AccessPolicy(true, [['docker.io', undefined]]).anyAnonymous, false);
  });
});
