/** An Upstream over one registry's HTTP API: pooled keep-alive, auth, retries, redirects. */
import { Pool, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import type { Metrics } from '../observability/metrics.js';
import { UpstreamAuth } from './auth.js';
import type { Breaker } from './breaker.js';
import { poolFromConfig, type CredentialPool, type PoolMember } from './credential-pool.js';
import { dump, failureOf, header, readLimited, type Call } from './http-call.js';
import { parseRateLimit, retryAfterMs, type RateLimit } from './ratelimit.js';
import type { BlobBody, BlobHead, ManifestBody, ManifestHead, Outcome, PassThroughBody, Upstream } from './types.js';

const MAX_MANIFEST = 8 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const MAX_RETRY_WAIT_MS = 5_000;

export interface ClientDeps {
  readonly config: UpstreamConfig;
  readonly metrics: Metrics;
  /** Shared dispatcher for other hosts: token realms and redirect targets. */
  readonly external: Dispatcher;
  readonly now: () => number;
  readonly onRateLimit?: (rl: RateLimit) => void;
  /** Fails requests fast while the upstream is known to be down. */
  readonly breaker?: Breaker;
  /** Whose credentials each request carries; default: built from the config, without events. */
  readonly pool?: CredentialPool;
}

interface Exchange {
  readonly kind: string;
  readonly method: 'GET' | 'HEAD';
  readonly repository: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly signal?: AbortSignal;
  readonly followRedirects: boolean;
  /** A counted request's reserved pool member; free requests take the pool's pick. */
  readonly member?: PoolMember;
}

export class RegistryClient implements Upstream {
  readonly name: string;
  private readonly base: URL;
  private readonly prefix: string;
  private readonly pool: Pool;
  private readonly auth: UpstreamAuth;
  readonly credentials: CredentialPool;

  constructor(private readonly deps: ClientDeps) {
    const c = deps.config;
    this.name = c.name;
    this.credentials = deps.pool ?? poolFromConfig(c, deps.now);
    this.base = new URL(c.url);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.base.origin, {
      connections: c.connections,
      connect: { timeout: c.timeouts.connectMs },
      headersTimeout: c.timeouts.headersMs,
      bodyTimeout: c.timeouts.idleMs,
      keepAliveTimeout: 30_000,
    });
    this.auth = new UpstreamAuth({
      upstreamUrl: this.base,
      credentials: c.credentials,
      dispatcher: deps.external,
      timeoutMs: c.timeouts.headersMs,
      now: deps.now,
      onTokenFetch: (result) => deps.metrics.tokenFetches.inc({ upstream: c.name, result }),
    });
  }

  async headManifest(repository: string, reference: string, accept: string): Promise<Outcome<ManifestHead>> {
    const call = await this.exchange({ kind: 'manifest_head', method: 'HEAD', repository, path: `/v2/${repository}/manifests/${reference}`, headers: { accept }, followRedirects: true });
    if (call.kind === 'error') return { kind: 'unreachable', cause: call.cause };
    const res = call.res;
    await dump(res);
    if (res.statusCode !== 200) return failureOf(res);
    const digest = header(res, 'docker-content-digest');
    return {
      kind: 'found',
      value: { mediaType: header(res, 'content-type') ?? '', size: Number(header(res, 'content-length') ?? -1), ...(digest ? { digest } : {}) },
    };
  }

  /** A manifest GET is what Docker Hub counts as a pull: it goes out with the credential that has the most quota left. */
  async getManifest(repository: string, reference: string, accept: string): Promise<Outcome<ManifestBody>> {
    const lease = this.credentials.reserve();
    if (lease.kind === 'exhausted') return { kind: 'ratelimited', retryAfter: String(Math.ceil(lease.retryAfterMs / 1000)) };
    const call = await this.exchange({ kind: 'manifest_get', method: 'GET', repository, path: `/v2/${repository}/manifests/${reference}`, headers: { accept }, followRedirects: true, member: lease.member }).finally(() => lease.release());
    if (call.kind === 'error') return { kind: 'unreachable', cause: call.cause };
    const res = call.res;
    if (res.statusCode !== 200) {
      await dump(res);
      return failureOf(res);
    }
    const bytes = await readLimited(res, MAX_MANIFEST).catch(() => undefined);
    if (!bytes) return { kind: 'unreachable', cause: 'manifest body too large or broken' };
    const digest = header(res, 'docker-content-digest');
    return { kind: 'found', value: { bytes, mediaType: header(res, 'content-type') ?? '', ...(digest ? { digest } : {}) } };
  }

  async statBlob(repository: string, digest: string): Promise<Outcome<BlobHead>> {
    const call = await this.exchange({ kind: 'blob_head', method: 'HEAD', repository, path: `/v2/${repository}/blobs/${digest}`, headers: {}, followRedirects: true });
    if (call.kind === 'error') return { kind: 'unreachable', cause: call.cause };
    await dump(call.res);
    if (call.res.statusCode !== 200) return failureOf(call.res);
    return { kind: 'found', value: { size: Number(header(call.res, 'content-length') ?? -1) } };
  }

  async getBlob(repository: string, digest: string, from: number, signal?: AbortSignal): Promise<Outcome<BlobBody>> {
    const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
    const call = await this.exchange({ kind: 'blob_get', method: 'GET', repository, path: `/v2/${repository}/blobs/${digest}`, headers, followRedirects: true, ...(signal ? { signal } : {}) });
    if (call.kind === 'error') return { kind: 'unreachable', cause: call.cause };
    const res = call.res;
    const length = Number(header(res, 'content-length') ?? -1);
    if (res.statusCode === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(res, 'content-range') ?? '');
      if (!m) {
        await dump(res);
        return { kind: 'unreachable', cause: 'bad content-range from upstream' };
      }
      return { kind: 'found', value: { size: Number(m[3]), start: Number(m[1]), body: res.body } };
    }
    if (res.statusCode !== 200) {
      await dump(res);
      return failureOf(res);
    }
    return { kind: 'found', value: { size: length, start: 0, body: res.body } };
  }

  async getJson(repository: string, pathAndQuery: string, accept = 'application/json'): Promise<Outcome<PassThroughBody>> {
    const call = await this.exchange({ kind: 'json_get', method: 'GET', repository, path: `/v2/${repository}/${pathAndQuery}`, headers: { accept }, followRedirects: true });
    if (call.kind === 'error') return { kind: 'unreachable', cause: call.cause };
    const res = call.res;
    if (res.statusCode !== 200) {
      await dump(res);
      return failureOf(res);
    }
    const bytes = await readLimited(res, MAX_MANIFEST).catch(() => undefined);
    if (!bytes) return { kind: 'unreachable', cause: 'body too large or broken' };
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'link', 'oci-filters-applied']) {
      const v = header(res, name);
      if (v !== undefined) headers[name] = v;
    }
    return { kind: 'found', value: { status: 200, bytes, headers } };
  }

  belowQuotaFloor(): boolean {
    return this.credentials.belowFloor();
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** The breaker's verdict first: an upstream known to be down is not dialled at all. */
  private async exchange(x: Exchange): Promise<Call> {
    if (this.deps.config.offline) return { kind: 'error', cause: 'offline' };
    const breaker = this.deps.breaker;
    if (!breaker) return this.attempts(x);
    const admission = breaker.admit();
    if (admission.kind === 'reject') return { kind: 'error', cause: 'circuit open' };
    let call: Call | undefined;
    try {
      call = await this.attempts(x);
      return call;
    } finally {
      if (!call || (call.kind === 'error' && x.signal?.aborted)) breaker.abandoned(admission);
      else if (call.kind === 'error' || call.res.statusCode >= 500) breaker.failed(admission);
      else breaker.succeeded(admission);
    }
  }

  /** Auth (one refresh on 401), bounded retries on connection errors and 5xx, redirects. */
  private async attempts(x: Exchange): Promise<Call> {
    const member = x.member ?? this.credentials.pick();
    let authHeader = await this.auth.headerFor(x.repository, member);
    let refreshed = false;
    let attempt = 0;
    for (;;) {
      const call = await this.once(x, authHeader, member);
      if (call.kind === 'response') {
        const res = call.res;
        if (res.statusCode === 401 && !refreshed) {
          refreshed = true;
          const next = await this.auth.afterUnauthorized(header(res, 'www-authenticate'), x.repository, member);
          if (next === undefined) return call;
          await dump(res);
          authHeader = next;
          continue;
        }
        if (res.statusCode < 500 || !this.mayRetry(attempt, x)) return call;
        const wait = retryAfterMs(header(res, 'retry-after'), this.deps.now());
        await dump(res);
        await this.backoff(attempt++, wait);
        continue;
      }
      if (!this.mayRetry(attempt, x)) return call;
      await this.backoff(attempt++, undefined);
    }
  }

  /** Retries stop early once the breaker has opened: more waiting would not help the client. */
  private mayRetry(attempt: number, x: Exchange): boolean {
    return attempt < this.deps.config.retries && !x.signal?.aborted && !this.deps.breaker?.isOpen;
  }

  private async backoff(attempt: number, retryAfter: number | undefined): Promise<void> {
    const base = Math.min(MAX_RETRY_WAIT_MS, 100 * 2 ** attempt);
    const wait = retryAfter !== undefined ? Math.min(MAX_RETRY_WAIT_MS, retryAfter) : base / 2 + Math.random() * (base / 2);
    await new Promise((r) => setTimeout(r, wait));
  }

  private async once(x: Exchange, authHeader: string | undefined, member: PoolMember): Promise<Call> {
    const c = this.deps.config;
    const started = performance.now();
    const headers: Record<string, string> = { 'user-agent': 'berth', ...x.headers };
    if (authHeader) headers.authorization = authHeader;
    try {
      let res = await this.pool.request({ path: this.prefix + x.path, method: x.method, headers, ...(x.signal ? { signal: x.signal } : {}) });
      this.observe(x.kind, res, started);
      this.credentials.observe(member, res.statusCode, (h) => header(res, h));
      let hops = 0;
      let from = new URL(this.base.origin + this.prefix + x.path);
      while (x.followRedirects && res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && hops < MAX_REDIRECTS) {
        const location = header(res, 'location');
        if (!location) break;
        await dump(res);
        const to = new URL(location, from);
        hops++;
        // Credentials never follow a redirect to another origin (CDN, object storage).
        const sameOrigin = to.origin === this.base.origin;
        const h: Record<string, string> = { ...headers };
        if (!sameOrigin) delete h.authorization;
        const dispatcher: Dispatcher = sameOrigin ? this.pool : this.deps.external;
        res = await dispatcher.request({ origin: to.origin, path: to.pathname + to.search, method: x.method, headers: h, ...(x.signal ? { signal: x.signal } : {}) });
        from = to;
      }
      return { kind: 'response', res };
    } catch (err) {
      this.deps.metrics.upstreamRequests.inc({ upstream: c.name, kind: x.kind, status: 'error' });
      return { kind: 'error', cause: err instanceof Error ? `${err.name}: ${err.message}` : 'request failed' };
    }
  }

  private observe(kind: string, res: Dispatcher.ResponseData, started: number): void {
    const m = this.deps.metrics;
    const name = this.deps.config.name;
    m.upstreamRequests.inc({ upstream: name, kind, status: String(res.statusCode) });
    m.upstreamDuration.observe({ upstream: name, kind }, (performance.now() - started) / 1000);
    const rl = parseRateLimit((h) => header(res, h));
    if (rl) {
      if (rl.limit !== undefined) m.rateLimitLimit.set({ upstream: name }, rl.limit);
      if (rl.remaining !== undefined) m.rateLimitRemaining.set({ upstream: name }, rl.remaining);
      this.deps.onRateLimit?.(rl);
    }
  }
}
