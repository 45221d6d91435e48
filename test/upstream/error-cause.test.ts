/**
 * The one classification of upstream failures (error-cause.ts) and the one status mapping
 * (status-failure.ts), on real error objects: undici's own connect path with a failing
 * lookup (no DNS query leaves the machine), a closed loopback port, TLS to a plain HTTP
 * server, a server that never answers, and undici's error classes.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Pool, errors } from 'undici';
import { causeFromDetail, detailOf } from '../../src/upstream/cause-detail.js';
import { causeOfError, scrub } from '../../src/upstream/error-cause.js';
import { failureOfStatus } from '../../src/upstream/status-failure.js';
import { freePort } from '../support/ports.js';

const where = { name: 'docker.io', host: 'registry-1.docker.io' };

/** What one GET through a fresh Pool threw. */
async function thrown(origin: string, opts: Pool.Options = {}, signal?: AbortSignal): Promise<unknown> {
  const pool = new Pool(origin, opts);
  try {
    const res = await pool.request({ path: '/v2/', method: 'GET', ...(signal ? { signal } : {}) });
    await res.body.dump();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await pool.destroy();
  }
}

function failingLookup(code: string): NonNullable<Pool.Options['connect']> {
  return {
    lookup: (hostname: string, _opts: unknown, cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void) => {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, errno: -3008, syscall: 'getaddrinfo', hostname });
      cb(err, '', 0);
    },
  } as NonNullable<Pool.Options['connect']>;
}

describe('causeOfError', () => {
  let plain: Server;
  let plainPort = 0;
  const held = new Set<Socket>();
  const silent = createTcpServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });

  before(async () => {
    plain = createHttpServer((_req, res) => res.end('plain'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    plainPort = (plain.address() as AddressInfo).port;
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    plain.closeAllConnections();
    await new Promise((r) => plain.close(r));
    for (const socket of held) socket.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('a host name that does not resolve is dns (ENOTFOUND, EAI_AGAIN), through undici connect', async () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      const c = causeOfError(await thrown('http://registry.invalid', { connect: failingLookup(code) }), where);
      assert.equal(c.kind, 'dns', code);
      assert.equal(c.message, `getaddrinfo ${code} registry.invalid`);
      assert.equal(c.upstream, 'docker.io');
      assert.equal(c.host, 'registry-1.docker.io');
    }
  });

  it('a closed loopback port is refused', async () => {
    const port = await freePort();
    const c = causeOfError(await thrown(`http://127.0.0.1:${port}`));
    assert.deepEqual(c, { kind: 'refused', message: `connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('https to a plain HTTP server is tls, with OpenSSL reduced to its reason', async () => {
    const c = causeOfError(await thrown(`https://127.0.0.1:${plainPort}`));
    assert.equal(c.kind, 'tls');
    assert.match(c.message, /wrong version number/);
    assert.doesNotMatch(c.message, /\n|openssl\/ssl/);
  });

  it('certificate failures are tls', () => {
    const err = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    assert.equal(causeOfError(err).kind, 'tls');
    assert.equal(causeOfError(Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })).kind, 'tls');
  });

  it('a server that accepts and never answers is a headers timeout, and a deadline is a total timeout', async () => {
    const origin = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const headers = causeOfError(await thrown(origin, { headersTimeout: 200 }), where, { headersMs: 200 });
    assert.deepEqual([headers.kind, headers.timeout, headers.message], ['timeout', 'headers', 'no response headers within 200 ms']);
    const total = causeOfError(await thrown(origin, {}, AbortSignal.timeout(200)));
    assert.deepEqual([total.kind, total.timeout], ['timeout', 'total']);
  });

  it("undici's connect and body timeouts, a closed socket and a client abort", () => {
    assert.deepEqual(causeOfError(new errors.ConnectTimeoutError(), undefined, { connectMs: 1000 }), { kind: 'timeout', timeout: 'connect', message: 'no connection within 1000 ms' });
    assert.equal(causeOfError(new errors.BodyTimeoutError()).timeout, 'idle');
    assert.equal(causeOfError(new errors.SocketError('other side closed')).kind, 'reset');
    assert.equal(causeOfError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })).kind, 'reset');
    assert.equal(causeOfError(new DOMException('This operation was aborted', 'AbortError')).kind, 'aborted');
    assert.equal(causeOfError(new Error('something else')).kind, 'error');
  });

  it('looks inside wrapping errors (fetch-style cause, AggregateError)', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED ::1:5000'), { code: 'ECONNREFUSED' });
    assert.equal(causeOfError(new TypeError('fetch failed', { cause: inner })).kind, 'refused');
    assert.equal(causeOfError(new AggregateError([inner], 'all attempts failed')).kind, 'refused');
  });

  it('scrubs userinfo, query strings and Authorization values from messages', () => {
    const m = scrub('GET https://user:s3cret@cdn.example/blob?X-Amz-Signature=abc failed; Authorization: Bearer eyJtoken\nsecond line');
    assert.equal(m, 'GET https://cdn.example/blob failed; Authorization: Bearer ***');
  });
});

describe('failureOfStatus', () => {
  const body = (code: string, message: string): Buffer => Buffer.from(JSON.stringify({ errors: [{ code, message, detail: null }] }));

  it("maps a status to its failure with the registry's error code", () => {
    assert.deepEqual(failureOfStatus(503, undefined, body('UNAVAILABLE', 'maintenance'), where), {
      kind: 'unreachable',
      cause: { kind: 'status', message: 'HTTP 503 UNAVAILABLE: maintenance', status: 503, code: 'UNAVAILABLE', upstream: 'docker.io', host: 'registry-1.docker.io' },
    });
    assert.deepEqual(failureOfStatus(500, undefined, Buffer.from('<html>oops</html>')), { kind: 'unreachable', cause: { kind: 'status', message: 'HTTP 500', status: 500 } });
    assert.deepEqual(failureOfStatus(404, undefined, body('MANIFEST_UNKNOWN', 'x')), { kind: 'absent' });
    const denied = failureOfStatus(401, undefined, body('UNAUTHORIZED', 'authentication required'));
    assert.deepEqual([denied.kind, denied.kind === 'denied' && denied.cause.code], ['denied', 'UNAUTHORIZED']);
    const limited = failureOfStatus(429, '30', body('TOOMANYREQUESTS', 'pull rate limit'));
    assert.equal(limited.kind, 'ratelimited');
    assert.equal(limited.kind === 'ratelimited' && limited.retryAfter, '30');
    assert.equal(limited.kind === 'ratelimited' && limited.cause.message, 'HTTP 429 TOOMANYREQUESTS: pull rate limit');
  });

  it('a cause survives the trip through an error detail', () => {
    const f = failureOfStatus(502, undefined, body('UNAVAILABLE', 'bad gateway'), where);
    assert.equal(f.kind, 'unreachable');
    if (f.kind !== 'unreachable') return;
    assert.deepEqual(causeFromDetail(JSON.parse(JSON.stringify(detailOf(f.cause)))), f.cause);
    assert.equal(causeFromDetail({ cause: 'not-a-kind', message: 'x' }), undefined);
  });

  it("a berth in between passes on its upstream's cause (the CLI's HTTP source)", () => {
    const refused = { upstream: 'docker.io', host: 'registry-1.docker.io', cause: 'refused', message: 'connect ECONNREFUSED 10.0.0.1:443' };
    const fromBerth = Buffer.from(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'upstream unavailable: connection refused', detail: refused }] }));
    const f = failureOfStatus(503, undefined, fromBerth);
    assert.equal(
      f.kind === 'unreachable' && f.cause.message,
      'HTTP 503 UNAVAILABLE: upstream unavailable: connection refused; cause refused: connect ECONNREFUSED 10.0.0.1:443 (upstream docker.io, host registry-1.docker.io)',
    );
  });
});
