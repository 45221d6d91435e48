/**
 * Per-upstream access rules: which clients may pull through which upstream. Decided on the
 * route's upstream alone, before any cache lookup, so content cached from one upstream is never
 * served through another upstream's name to a client that upstream's rule refuses.
 */
import type { UpstreamAccess } from '../config/types.js';
import type { Client } from './authenticator.js';

/** allow; challenge = ask for credentials (401); deny = known client, not allowed (403). */
export type Verdict = 'allow' | 'challenge' | 'deny';

const DEFAULT_RULE: UpstreamAccess = { anonymous: false };

export class AccessPolicy {
  private readonly rules: ReadonlyMap<string, UpstreamAccess>;

  /**
   * @param enabled client auth is on; when off every client may use every upstream
   * @param rules upstream name → its rule; upstreams without one get the default
   */
  constructor(
    private readonly enabled: boolean,
    rules: Iterable<readonly [string, UpstreamAccess | undefined]>,
  ) {
    const map = new Map<string, UpstreamAccess>();
    for (const [name, rule] of rules) if (rule !== undefined) map.set(name, rule);
    this.rules = map;
  }

  get authEnabled(): boolean {
    return this.enabled;
  }

  /** Whether any upstream serves clients without credentials. */
  get anyAnonymous(): boolean {
    if (!this.enabled) return true;
    for (const rule of this.rules.values()) if (rule.anonymous) return true;
    return false;
  }

  check(client: Client, upstream: string): Verdict {
    if (!this.enabled) return 'allow';
    const rule = this.rules.get(upstream) ?? DEFAULT_RULE;
    if (rule.anonymous) return 'allow';
    if (client.kind === 'anonymous') return 'challenge';
    if (rule.allow === undefined || rule.allow.includes(client.name)) return 'allow';
    return 'deny';
  }
}
