/**
 * Who a client is, from its Authorization header: anonymous, a named client, or invalid.
 * Basic credentials are checked against the htpasswd file (bcrypt) or the static tokens;
 * `Bearer <token>` against the static tokens. bcrypt is slow on purpose, so a successful check
 * is remembered briefly, keyed by an HMAC of user and password (never the password itself),
 * and concurrent checks of the same credentials share one bcrypt run.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { LRUCache } from 'lru-cache';
import type { ClientToken } from '../config/types.js';
import { parseHtpasswd, type HtpasswdTable } from './htpasswd.js';

export type Client = { readonly kind: 'anonymous' } | { readonly kind: 'user'; readonly name: string };
export type Authentication = Client | { readonly kind: 'invalid' };

export type HtpasswdLoad =
  | { readonly ok: true; readonly users: number; readonly skipped: HtpasswdTable['skipped'] }
  | { readonly ok: false; readonly error: string };

export interface AuthenticatorOptions {
  readonly htpasswdPath?: string;
  readonly tokens: readonly ClientToken[];
  /** How long a verified user:password pair is trusted without bcrypt. Default 60 s. */
  readonly cacheTtlMs?: number;
  readonly cacheMax?: number;
  readonly compare?: (password: string, hash: string) => Promise<boolean>;
  readonly readText?: (path: string) => Promise<string>;
}

const ANONYMOUS: Client = { kind: 'anonymous' };
const INVALID: Authentication = { kind: 'invalid' };
/** Checked for unknown users, so that they cost the same time as known ones. */
const DUMMY_HASH = '$2y$05$9uEPuq2rKezQ5FRXhAL6b.oBA/EPby1/r2UX2d7BcKZywGvcC1zYq';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class Authenticator {
  private users: ReadonlyMap<string, string> = new Map();
  private generation = 0;
  private readonly verified: LRUCache<string, string>;
  private readonly pending = new Map<string, Promise<string | undefined>>();
  private readonly hmacKey = randomBytes(32);
  private readonly tokens: ReadonlyArray<{ readonly name: string; readonly digest: Buffer }>;
  private readonly compare: (password: string, hash: string) => Promise<boolean>;
  private readonly readText: (path: string) => Promise<string>;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.verified = new LRUCache({ max: opts.cacheMax ?? 1000, ttl: opts.cacheTtlMs ?? 60_000 });
    this.tokens = opts.tokens.map((t) => ({ name: t.name, digest: sha256(t.token) }));
    this.compare = opts.compare ?? ((password, hash) => bcrypt.compare(password, hash));
    this.readText = opts.readText ?? ((path) => readFile(path, 'utf8'));
  }

  /** (Re-)reads the htpasswd file. On failure the previous users stay in effect. */
  async load(): Promise<HtpasswdLoad> {
    const path = this.opts.htpasswdPath;
    if (path === undefined) return { ok: true, users: 0, skipped: [] };
    let text: string;
    try {
      text = await this.readText(path);
    } catch (error) {
      return { ok: false, error: (error as NodeJS.ErrnoException).code ?? 'unreadable' };
    }
    const table = parseHtpasswd(text);
    this.users = table.users;
    this.generation++;
    this.verified.clear();
    return { ok: true, users: table.users.size, skipped: table.skipped };
  }

  async authenticate(header: string | undefined): Promise<Authentication> {
    if (header === undefined || header.trim() === '') return ANONYMOUS;
    const trimmed = header.trim();
    const space = trimmed.indexOf(' ');
    if (space === -1) return INVALID;
    const scheme = trimmed.slice(0, space).toLowerCase();
    const value = trimmed.slice(space + 1).trim();
    if (scheme === 'bearer') {
      const name = this.tokenName(value);
      return name !== undefined ? { kind: 'user', name } : INVALID;
    }
    if (scheme !== 'basic') return INVALID;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return INVALID;
    return this.basic(decoded.slice(0, colon), decoded.slice(colon + 1));
  }

  private async basic(user: string, password: string): Promise<Authentication> {
    const tokenName = this.tokenName(password);
    if (tokenName !== undefined) return { kind: 'user', name: tokenName };
    const key = createHmac('sha256', this.hmacKey).update(user).update('\0').update(password).digest('base64');
    const known = this.verified.get(key);
    if (known !== undefined) return { kind: 'user', name: known };
    let check = this.pending.get(key);
    if (!check) {
      check = this.check(user, password, key);
      this.pending.set(key, check);
      void check.finally(() => this.pending.delete(key));
    }
    const name = await check;
    return name !== undefined ? { kind: 'user', name } : INVALID;
  }

  private async check(user: string, password: string, key: string): Promise<string | undefined> {
    const generation = this.generation;
    const hash = this.users.get(user);
    const matches = await this.compare(password, hash ?? DUMMY_HASH).catch(() => false);
    if (!matches || hash === undefined) return undefined;
    // A reload while bcrypt ran may have changed or removed the user: do not remember it.
    if (generation === this.generation) this.verified.set(key, user);
    return user;
  }

  /** Compares against every token in constant time per token. */
  private tokenName(candidate: string): string | undefined {
    if (this.tokens.length === 0 || candidate === '') return undefined;
    const digest = sha256(candidate);
    let found: string | undefined;
    for (const t of this.tokens) if (timingSafeEqual(digest, t.digest) && found === undefined) found = t.name;
    return found;
  }
}
