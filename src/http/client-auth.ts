/**
 * Client authentication middleware: identifies the client once per request and leaves the
 * per-upstream decision to the route (handlers/route.ts), which knows the upstream before it
 * looks at the cache. Which routes are open is the route table's answer (route-table.ts).
 */
import type { Middleware } from 'koa';
import type { AccessPolicy } from '../auth/access.js';
import type { Authenticator, Client } from '../auth/authenticator.js';
import { RegistryError } from '../oci/errors.js';
import type { RequestState } from './state.js';

export interface ClientAuthDeps {
  /** Absent when client auth is off. */
  readonly authenticator?: Authenticator;
  readonly policy: AccessPolicy;
  readonly realm: string;
  readonly metricsRequireAuth: boolean;
}

const ANONYMOUS: Client = { kind: 'anonymous' };

export function unauthorized(realm: string, message = 'authentication required'): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, undefined, { 'www-authenticate': `Basic realm="${realm}"` });
}

export function clientAuth(deps: ClientAuthDeps): Middleware<RequestState> {
  const { authenticator, policy, realm } = deps;
  return async (ctx, next) => {
    const { access } = ctx.state.route;
    if (access === 'open' || (access === 'metrics' && !deps.metricsRequireAuth)) return next();
    const root = access === 'root' || access === 'metrics';
    const who = authenticator ? await authenticator.authenticate(ctx.get('authorization') || undefined) : ANONYMOUS;
    if (who.kind === 'invalid') throw unauthorized(realm, 'invalid credentials');
    if (who.kind === 'user') ctx.state.client = who.name;
    ctx.state.authorize = (upstream: string): RegistryError | undefined => {
      const verdict = policy.check(who, upstream);
      if (verdict === 'allow') return undefined;
      if (verdict === 'challenge') return unauthorized(realm);
      return new RegistryError('DENIED', 'this client may not pull through this registry', { registry: upstream });
    };
    // The API root is how clients discover that a registry wants credentials. Without any
    // anonymous upstream, every API path challenges at once (and reveals nothing about routes).
    const api = root || (access === 'api' && !policy.anyAnonymous);
    if (policy.authEnabled && who.kind === 'anonymous' && api) throw unauthorized(realm);
    return next();
  };
}
