/**
 * Issue 17: an upstream failure tells the client, the access log and `berth doctor` its
 * cause (refused, timeout, TLS, the upstream's status and error code), naming the upstream
 * by configured name and host and never by its credentials. All upstreams are loopback: a
 * closed port, the fault proxy (answering 5xx/429 or never answering), and https pointed at
 * the plain-HTTP proxy.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { runDoctor } from '../../src/cli/doctor.js';
import { createLogger } from '../../src/observability/logger.js';
import { freePort } from '../support/ports.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { call, startMirror, type Mirror, type Reply } from './harness.js';

const PASSWORD = 'pw-Hunter2-do-not-log';
const TOKEN = 'tok-0123456789-do-not-log';
const BASIC = Buffer.from(`svc-user:${PASSWORD}`).toString('base64');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** The daemon's pino lines, parsed, with an event per line so a test can wait for one. */
class LogCapture extends EventEmitter {
  readonly raw: string[] = [];
  readonly lines: Array<Record<string, unknown>> = [];
  write(chunk: string): void {
    this.raw.push(chunk);
    const line = JSON.parse(chunk) as Record<string, unknown>;
    this.lines.push(line);
    this.emit('line', line);
  }

  /** The access-log line of one request (by the X-Request-Id berth answered with). */
  async requestLine(reqId: string): Promise<Record<string, unknown>> {
    const match = (l: Record<string, unknown>): boolean => l.msg === 'request' && l.reqId === reqId;
    const found = this.lines.find(match);
    if (found) return found;
    const signal = AbortSignal.timeout(5_000);
    for (;;) {
      const [line] = (await once(this, 'line', { signal })) as [Record<string, unknown>];
      if (match(line)) return line;
    }
  }
}

interface OciError {
  readonly code: string;
  readonly message: string;
  readonly detail?: Record<string, unknown>;
}

function ociError(r: Reply): OciError {
  const doc = JSON.parse(r.body.toString('utf8')) as { errors: OciError[] };
  assert.equal(doc.errors.length, 1);
  return doc.errors[0]!;
}

describe('error causes: client, log and doctor', () => {
  let proxy: FaultProxy;
  let mirror: Mirror;
  let closedPort = 0;
  const log = new LogCapture();
  const bodies: string[] = [];

  const get = async (path: string, accept = 'application/vnd.oci.image.manifest.v1+json'): Promise<{ reply: Reply; error: OciError; line: Record<string, unknown> }> => {
    const reply = await call(`${mirror.url}${path}`, { headers: { accept } });
    bodies.push(reply.body.toString('utf8'));
    const line = await log.requestLine(reply.headers['x-request-id'] ?? '');
    return { reply, error: ociError(reply), line };
  };

  before(async () => {
    closedPort = await freePort();
    // Nothing behind the proxy: every request a test makes is answered by a fault.
    proxy = await startFaultProxy(`http://127.0.0.1:${closedPort}`);
    const common = '    retries: 0\n    breaker: { failures: 0 }\n';
    const upstreams = [
      `  docker.io:\n    url: http://127.0.0.1:${closedPort}\n${common}    credentials: { username: svc-user, password: ${PASSWORD} }\n`,
      `  slow.test:\n    url: ${proxy.url}\n${common}    timeouts: { headers: 300ms }\n    credentials: { token: ${TOKEN} }\n`,
      `  tls.test:\n    url: https://127.0.0.1:${proxy.port}\n${common}    credentials: { username: svc-user, password: ${PASSWORD} }\n`,
      `  status.test:\n    url: ${proxy.url}\n${common}    credentials: { token: ${TOKEN} }\n`,
      `  breaker.test:\n    url: http://127.0.0.1:${closedPort}\n    retries: 0\n    breaker: { failures: 1, coolDown: 60s }\n`,
    ].join('');
    mirror = await startMirror({ upstreams, logger: createLogger('info', log) });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
  });

  test('a refused connection: 503 with the cause in detail and in the access-log line', async () => {
    const { reply, error, line } = await get('/v2/t/app/manifests/1.0');
    assert.equal(reply.status, 503);
    assert.equal(error.code, 'UNAVAILABLE');
    assert.equal(error.message, 'upstream unavailable: connection refused');
    const detail = { upstream: 'docker.io', host: `127.0.0.1:${closedPort}`, cause: 'refused', message: `connect ECONNREFUSED 127.0.0.1:${closedPort}` };
    assert.deepEqual(error.detail, detail);
    assert.equal(line.status, 503);
    assert.equal(line.upstream, 'docker.io');
    assert.deepEqual(line.error, { code: 'UNAVAILABLE', ...detail });
  });

  test('a blob whose fill could not start carries the same cause', async () => {
    const { reply, error, line } = await get(`/v2/t/app/blobs/${DIGEST}`, '*/*');
    assert.equal(reply.status, 503);
    assert.equal(error.detail?.cause, 'refused');
    assert.equal(error.detail?.upstream, 'docker.io');
    assert.equal((line.error as Record<string, unknown>).cause, 'refused');
  });

  test('an upstream that accepts and never answers: a headers timeout naming the limit', async () => {
    const hang = proxy.fault({ path: /^\/v2\/t\/slow\//, hang: true });
    try {
      const { reply, error, line } = await get('/v2/slow.test/t/slow/manifests/1.0');
      assert.equal(reply.status, 503);
      assert.deepEqual(error.detail, { upstream: 'slow.test', host: `127.0.0.1:${proxy.port}`, cause: 'timeout', timeout: 'headers', message: 'no response headers within 300 ms' });
      assert.equal(error.message, 'upstream unavailable: timed out (headers)');
      assert.equal((line.error as Record<string, unknown>).timeout, 'headers');
      assert.equal(hang.hits, 1);
    } finally {
      hang.remove();
    }
  });

  test('https to a plain HTTP server: a TLS cause', async () => {
    const { reply, error } = await get('/v2/tls.test/t/app/manifests/1.0');
    assert.equal(reply.status, 503);
    assert.equal(error.detail?.cause, 'tls');
    assert.equal(error.detail?.host, `127.0.0.1:${proxy.port}`);
    assert.match(String(error.detail?.message), /wrong version number/);
  });

  test("an upstream 5xx or 429: its status and the registry's error code", async () => {
    const f503 = proxy.fault({ path: /^\/v2\/t\/down\//, status: 503 });
    const f500 = proxy.fault({ path: /^\/v2\/t\/broken\//, status: 500 });
    const f429 = proxy.fault({ path: /^\/v2\/t\/limited\//, status: 429, headers: { 'retry-after': '17' } });
    try {
      // By digest berth GETs the manifest, so the registry's error body is there to read.
      const down = await get(`/v2/status.test/t/down/manifests/${DIGEST}`);
      assert.equal(down.reply.status, 503);
      assert.equal(down.error.message, 'upstream unavailable: it answered 503 UNAVAILABLE');
      assert.deepEqual(down.error.detail, {
        upstream: 'status.test',
        host: `127.0.0.1:${proxy.port}`,
        cause: 'status',
        upstreamStatus: 503,
        upstreamCode: 'UNAVAILABLE',
        message: 'HTTP 503 UNAVAILABLE: injected by berth test proxy',
      });
      assert.deepEqual(down.line.error, { code: 'UNAVAILABLE', ...down.error.detail });
      // A tag is resolved with a HEAD first: the status is known, a body is not.
      const tag = await get('/v2/status.test/t/down/manifests/1.0');
      assert.deepEqual([tag.error.detail?.upstreamStatus, tag.error.detail?.message], [503, 'HTTP 503']);
      // A blob fill that the upstream refuses with a 500 reaches the client with that answer.
      const blob = await get(`/v2/status.test/t/broken/blobs/${DIGEST}`, '*/*');
      assert.equal(blob.reply.status, 503);
      assert.deepEqual([blob.error.detail?.cause, blob.error.detail?.upstreamStatus, blob.error.detail?.upstreamCode], ['status', 500, 'UNKNOWN']);
      const limited = await get(`/v2/status.test/t/limited/manifests/${DIGEST}`);
      assert.equal(limited.reply.status, 429);
      assert.equal(limited.reply.headers['retry-after'], '17');
      assert.equal(limited.error.code, 'TOOMANYREQUESTS');
      assert.deepEqual([limited.error.detail?.cause, limited.error.detail?.upstreamStatus, limited.error.detail?.upstreamCode], ['status', 429, 'TOOMANYREQUESTS']);
    } finally {
      for (const f of [f503, f500, f429]) f.remove();
    }
    // The credential really was in play: the proxy saw it on the way up.
    assert.ok(proxy.requests.some((r) => r.requestHeaders['authorization'] === `Bearer ${TOKEN}`));
  });

  test('an open circuit says so, and what opened it', async () => {
    const first = await get('/v2/breaker.test/t/app/manifests/1.0');
    assert.equal(first.error.detail?.cause, 'refused');
    const { reply, error, line } = await get('/v2/breaker.test/t/app/manifests/1.0');
    assert.equal(reply.status, 503);
    assert.equal(error.detail?.cause, 'circuit-open');
    assert.match(String(error.detail?.message), new RegExp(`^circuit open after repeated failures, next try in \\d+ s; last failure: refused: connect ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}$`));
    assert.equal((line.error as Record<string, unknown>).cause, 'circuit-open');
  });

  test('berth doctor prints the cause berth reports', async () => {
    const out: string[] = [];
    const code = await runDoctor({ url: mirror.url, image: 't/app:1.0', timeoutMs: 10_000 }, (l) => out.push(l));
    assert.equal(code, 1);
    const fail = out.find((l) => l.startsWith('FAIL  pull 1 of t/app:1.0'));
    assert.equal(
      fail,
      `FAIL  pull 1 of t/app:1.0: UNAVAILABLE: upstream unavailable: connection refused; cause refused: connect ECONNREFUSED 127.0.0.1:${closedPort} (upstream docker.io, host 127.0.0.1:${closedPort})`,
    );
    bodies.push(...out);
  });

  test('no credential configured for an upstream appears in any error body or log line', () => {
    const everything = [...bodies, ...log.raw].join('\n');
    assert.ok(log.lines.length >= 7, `${log.lines.length} log lines`);
    for (const secret of [PASSWORD, TOKEN, BASIC]) assert.ok(!everything.includes(secret), 'a credential leaked into a body or a log line');
  });
});
