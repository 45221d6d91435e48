/**
 * One upstream exchange: the breaker's verdict, the auth header (one refresh on 401), bounded
 * retries on connection errors and 5xx, redirects followed without credentials across origins,
 * and what every response tells us (metrics, rate limits, the credential's quota).
 */
import { Pool, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import type { Metrics } from '../observability/metrics.js';
import type { UpstreamAuth } from './auth.js';
import type { Breaker } from './breaker.js';
import type { CredentialPool, PoolMember } from './credential-pool.js';
import { causeOf, causeOfError, hostOf, type Where } from './error-cause.js';
import { dump, header, type Call } from './http-call.js';
import { parseRateLimit, retryAfterMs, type RateLimit } from './ratelimit.js';

const MAX_REDIRECTS = 5;
const MAX_RETRY_WAIT_MS = 5_000;

export interface Exchange {
  readonly kind: string;
  readonly method: 'GET' | 'HEAD';
  readonly repository: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly signal?: AbortSignal;
  /** A counted request's reserved pool member; free requests take the pool's pick. */
  readonly member?: PoolMember;
}

export interface TransportDeps {
  readonly config: UpstreamConfig;
  readonly metrics: Metrics;
  /** Shared dispatcher for other hosts: redirect targets. */
  readonly external: Dispatcher;
  readonly now: () => number;
  readonly auth: UpstreamAuth;
  readonly credentials: CredentialPool;
  readonly onRateLimit?: (rl: RateLimit) => void;
  readonly breaker?: Breaker;
}

export class Transport {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly pool: Pool;
  /** How failures name this upstream: configured name and host, never credentials. */
  readonly where: Where;
  /** The last exchange's failure, so that an open circuit can say what opened it. */
  private lastFailure?: string;

  constructor(private readonly deps: TransportDeps) {
    const c = deps.config;
    this.where = { name: c.name, host: hostOf(c.url) };
    this.base = new URL(c.url);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.pool = new Pool(this.base.origin, {
      connections: c.connections,
      connect: { timeout: c.timeouts.connectMs },
      headersTimeout: c.timeouts.headersMs,
      bodyTimeout: c.timeouts.idleMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** The breaker's verdict first: an upstream known to be down is not dialled at all. */
  async exchange(x: Exchange): Promise<Call> {
    if (this.deps.config.offline) return { kind: 'error', cause: causeOf('offline', 'upstream is configured offline', this.where) };
    const breaker = this.deps.breaker;
    if (!breaker) return this.attempts(x);
    const admission = breaker.admit();
    if (admission.kind === 'reject') {
      const last = this.lastFailure !== undefined ? `; last failure: ${this.lastFailure}` : '';
      const message = `circuit open after repeated failures, next try in ${Math.ceil(admission.retryInMs / 1000)} s${last}`;
      return { kind: 'error', cause: causeOf('circuit-open', message, this.where) };
    }
    let call: Call | undefined;
    try {
      call = await this.attempts(x);
      return call;
    } finally {
      if (!call || (call.kind === 'error' && x.signal?.aborted)) breaker.abandoned(admission);
      else if (call.kind === 'error' || call.res.statusCode >= 500) breaker.failed(admission);
      else breaker.succeeded(admission);
      if (call?.kind === 'error') this.lastFailure = `${call.cause.kind}: ${call.cause.message}`;
      else if (call && call.res.statusCode >= 500) this.lastFailure = `HTTP ${call.res.statusCode}`;
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /**
   * A GET straight to a URL a registry redirected to before (a CDN's signed URL), without the
   * registry's credentials, so ranged parts of one blob need one redirect, not one each.
   */
  async direct(kind: string, url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Call> {
    const started = performance.now();
    const to = new URL(url);
    try {
      const res = await this.deps.external.request({ origin: to.origin, path: to.pathname + to.search, method: 'GET', headers: { 'user-agent': 'berth', ...headers }, ...(signal ? { signal } : {}) });
      this.observe(kind, res, started);
      return { kind: 'response', res, location: url };
    } catch (err) {
      this.deps.metrics.upstreamRequests.inc({ upstream: this.deps.config.name, kind, status: 'error' });
      return { kind: 'error', cause: causeOfError(err, this.where, this.deps.config.timeouts) };
    }
  }

  /** Auth (one refresh on 401), bounded retries on connection errors and 5xx, redirects. */
  private async attempts(x: Exchange): Promise<Call> {
    const { auth, credentials } = this.deps;
    const member = x.member ?? credentials.pick();
    let authHeader = await auth.headerFor(x.repository, member);
    let refreshed = false;
    let attempt = 0;
    for (;;) {
      const call = await this.once(x, authHeader, member);
      if (call.kind === 'response') {
        const res = call.res;
        if (res.statusCode === 401 && !refreshed) {
          refreshed = true;
          const next = await auth.afterUnauthorized(header(res, 'www-authenticate'), x.repository, member);
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
    const started = performance.now();
    const headers: Record<string, string> = { 'user-agent': 'berth', ...x.headers };
    if (authHeader) headers.authorization = authHeader;
    const signal = x.signal ? { signal: x.signal } : {};
    try {
      let res = await this.pool.request({ path: this.prefix + x.path, method: x.method, headers, ...signal });
      this.observe(x.kind, res, started);
      this.deps.credentials.observe(member, res.statusCode, (h) => header(res, h));
      let from = new URL(this.base.origin + this.prefix + x.path);
      for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && hops < MAX_REDIRECTS; hops++) {
        const location = header(res, 'location');
        if (!location) break;
        await dump(res);
        const to = new URL(location, from);
        // Credentials never follow a redirect to another origin (CDN, object storage).
        const sameOrigin = to.origin === this.base.origin;
        const h: Record<string, string> = { ...headers };
        if (!sameOrigin) delete h.authorization;
        const dispatcher: Dispatcher = sameOrigin ? this.pool : this.deps.external;
        res = await dispatcher.request({ origin: to.origin, path: to.pathname + to.search, method: x.method, headers: h, ...signal });
        from = to;
      }
      return from.origin === this.base.origin ? { kind: 'response', res } : { kind: 'response', res, location: from.href };
    } catch (err) {
      this.deps.metrics.upstreamRequests.inc({ upstream: this.deps.config.name, kind: x.kind, status: 'error' });
      return { kind: 'error', cause: causeOfError(err, this.where, this.deps.config.timeouts) };
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
