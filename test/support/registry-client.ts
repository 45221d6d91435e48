import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ALL_MANIFEST_TYPES } from './image-spec.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export interface Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RequestOptions {
  /** Repository the request is about, for the token scope. */
  repo?: string;
  /** Actions for the token scope; default pull for GET/HEAD, pull+push otherwise. */
  actions?: string[];
  headers?: Record<string, string>;
  body?: Buffer | string | Readable | null;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (or Basic). */
export function parseChallenge(header: string | undefined): Challenge | null {
  if (!header) return null;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/([\w-]+)\s*=\s*"([^"]*)"/g)) {
    params[(p[1] ?? '').toLowerCase()] = p[2] ?? '';
  }
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

export function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function basicAuth(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/**
 * A small registry API client for tests and seeding. It answers Basic and Bearer
 * challenges (fetching tokens from the realm the registry names) and caches tokens per scope.
 */
export class RegistryClient {
  private challenge: Challenge | null | undefined;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    private readonly creds?: Credentials,
    private readonly dispatcher?: Dispatcher,
  ) {}

  /** GET /v2/ and remember the challenge (null when the registry is open). */
  async ping(): Promise<Challenge | null> {
    const res = await request(`${this.baseUrl}/v2/`, { method: 'GET', dispatcher: this.dispatcher });
    await res.body.dump();
    const h = flattenHeaders(res.headers);
    this.challenge = res.statusCode === 401 ? parseChallenge(h['www-authenticate']) : null;
    return this.challenge;
  }

  /** The Authorization header value for (repo, actions), or undefined for an open registry. */
  async authorization(repo: string | undefined, actions: string[]): Promise<string | undefined> {
    if (this.challenge === undefined) await this.ping();
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return this.creds ? basicAuth(this.creds) : undefined;
    if (ch.scheme !== 'bearer') throw new Error(`unsupported auth scheme ${ch.scheme}`);
    const scope = repo === undefined ? '' : `repository:${repo}:${actions.join(',')}`;
    const cached = this.tokens.get(scope);
    if (cached) return `Bearer ${cached}`;
    const u = new URL(ch.params.realm ?? '');
    if (ch.params.service) u.searchParams.set('service', ch.params.service);
    if (scope) u.searchParams.set('scope', scope);
    const res = await request(u, {
      method: 'GET',
      headers: this.creds ? { authorization: basicAuth(this.creds) } : {},
      dispatcher: this.dispatcher,
    });
    const text = await res.body.text();
    // Anonymous and refused: send the request without credentials and let the registry say 401.
    if (res.statusCode === 401 && !this.creds) return undefined;
    if (res.statusCode !== 200) throw new Error(`token request ${u.href} -> ${res.statusCode}: ${text}`);
    const json = JSON.parse(text) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (!token) throw new Error(`token response without token: ${text}`);
    this.tokens.set(scope, token);
    return `Bearer ${token}`;
  }

  /** Sends a request with auth; returns the raw undici response (caller consumes the body). */
  async raw(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<Dispatcher.ResponseData> {
    const read = method === 'GET' || method === 'HEAD';
    const actions = opts.actions ?? (read ? ['pull'] : ['pull', 'push']);
    const auth = await this.authorization(opts.repo, actions);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (auth) headers.authorization = auth;
    const url = new URL(pathOrUrl, this.baseUrl);
    return request(url, { method: method as Dispatcher.HttpMethod, headers, body: opts.body ?? null, dispatcher: this.dispatcher });
  }

  /** Sends a request and buffers the whole answer (small bodies only). */
  async send(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<Response> {
    const res = await this.raw(method, pathOrUrl, opts);
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body };
  }

  async getManifest(
    repo: string,
    ref: string,
    accept: readonly string[] = ALL_MANIFEST_TYPES,
  ): Promise<Response & { digest: string; mediaType: string }> {
    const r = await this.send('GET', `/v2/${repo}/manifests/${ref}`, { repo, headers: { accept: accept.join(', ') } });
    const digest = `sha256:${createHash('sha256').update(r.body).digest('hex')}`;
    return { ...r, digest, mediaType: r.headers['content-type'] ?? '' };
  }

  /** Downloads a blob, hashing it while streaming; never buffers it. */
  async blobDigest(repo: string, digest: string): Promise<{ status: number; size: number; digest: string }> {
    const res = await this.raw('GET', `/v2/${repo}/blobs/${digest}`, { repo });
    const h = createHash('sha256');
    let size = 0;
    for await (const c of res.body) {
      const b = c as Buffer;
      h.update(b);
      size += b.length;
    }
    return { status: res.statusCode, size, digest: `sha256:${h.digest('hex')}` };
  }
}
