/**
 * Upstream authentication: learns the registry's challenge, fetches Bearer tokens from the
 * realm it names (with credentials only where the operator allows), caches them per
 * (realm, service, scope, credential) until shortly before they expire. Each call may name the
 * pool member whose credentials it uses; without one, the upstream's single `credentials`.
 */
import { LRUCache } from 'lru-cache';
import type { Dispatcher } from 'undici';
import type { Credentials } from '../config/types.js';
import { SingleFlight } from '../util/single-flight.js';
import { parseChallenge, type Challenge } from './challenge.js';
import type { PoolMember } from './credential-pool.js';

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

export interface AuthDeps {
  readonly upstreamUrl: URL;
  readonly credentials: Credentials | undefined;
  /** Dispatcher for token-realm requests (another host than the registry, usually). */
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly onTokenFetch?: (result: 'ok' | 'error') => void;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

export class UpstreamAuth {
  private challenge: Challenge | undefined;
  private readonly tokens = new LRUCache<string, CachedToken>({ max: 10_000 });
  private readonly flights = new SingleFlight<CachedToken | undefined>();
  private readonly single: PoolMember;

  constructor(private readonly deps: AuthDeps) {
    this.single = { name: 'default', credentials: deps.credentials };
  }

  /** The Authorization header to send before any challenge is seen for this request. */
  async headerFor(repository: string, who: PoolMember = this.single): Promise<string | undefined> {
    const c = this.challenge;
    const creds = who.credentials;
    if (!c) {
      if (creds?.token && !creds.username) return `Bearer ${creds.token}`;
      return undefined;
    }
    if (c.scheme === 'basic') return basicHeader(who);
    return (await this.token(c, scopeFor(repository), false, who))?.header;
  }

  /** After a 401: learns the challenge and returns a fresh header to retry with, if any. */
  async afterUnauthorized(wwwAuthenticate: string | undefined, repository: string, who: PoolMember = this.single): Promise<string | undefined> {
    const c = parseChallenge(wwwAuthenticate);
    if (!c) return undefined;
    this.challenge = c;
    if (c.scheme === 'basic') return basicHeader(who);
    return (await this.token(c, c.scope ?? scopeFor(repository), true, who))?.header;
  }

  private async token(c: Extract<Challenge, { scheme: 'bearer' }>, scope: string, refresh: boolean, who: PoolMember): Promise<CachedToken | undefined> {
    // Tokens are per credential: a pool member's token carries its own account's quota.
    const key = `${c.realm}\n${c.service ?? ''}\n${scope}\n${who.name}`;
    const hit = this.tokens.get(key);
    if (hit && !refresh && hit.expiresAt > this.deps.now()) return hit;
    if (hit && refresh) this.tokens.delete(key);
    return this.flights.run(key, async () => {
      const t = await this.fetchToken(c, scope, who);
      if (t) this.tokens.set(key, t);
      return t;
    }).promise;
  }


  /** Credentials go to the realm only over TLS, or to the registry's own host or loopback. */
  private mayReceiveCredentials(realm: URL): boolean {
    if (realm.protocol === 'https:') return true;
    return realm.hostname === this.deps.upstreamUrl.hostname || LOOPBACK.has(realm.hostname);
  }

  private async fetchToken(c: Extract<Challenge, { scheme: 'bearer' }>, scope: string, who: PoolMember): Promise<CachedToken | undefined> {
    let realm: URL;
    try {
      realm = new URL(c.realm);
    } catch {
      return undefined;
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') return undefined;
    if (c.service !== undefined) realm.searchParams.set('service', c.service);
    if (scope) realm.searchParams.set('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = basicHeader(who);
    if (basic && this.mayReceiveCredentials(realm)) headers.authorization = basic;
    try {
      const res = await this.deps.dispatcher.request({
        origin: realm.origin,
        path: realm.pathname + realm.search,
        method: 'GET',
        headers,
        headersTimeout: this.deps.timeoutMs,
        bodyTimeout: this.deps.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) {
        this.deps.onTokenFetch?.('error');
        return undefined;
      }
      const doc = JSON.parse(text) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
      const token = typeof doc.token === 'string' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : undefined;
      if (!token) return undefined;
      const ttlSec = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
      // Renew a little before expiry so a request never carries a token that dies in flight.
      const margin = Math.min(30, ttlSec * 0.1);
      this.deps.onTokenFetch?.('ok');
      return { header: `Bearer ${token}`, expiresAt: this.deps.now() + (ttlSec - margin) * 1000 };
    } catch {
      this.deps.onTokenFetch?.('error');
      return undefined;
    }
  }
}

function basicHeader(who: PoolMember): string | undefined {
  const creds = who.credentials;
  if (!creds?.username) return undefined;
  const secret = creds.password ?? creds.token ?? '';
  return `Basic ${Buffer.from(`${creds.username}:${secret}`).toString('base64')}`;
}

function scopeFor(repository: string): string {
  return `repository:${repository}:pull`;
}
