/**
 * Client authentication middleware: identifies the client once per request and leaves the
 * per-upstream decision to the route (handlers/route.ts), which knows the upstream before it
 * looks at the cache. /healthz and /readyz are always open; /metrics unless configured otherwise.
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

const ALWAYS_OPEN: ReadonlySet<string> = new Set(['/healthz', '/readyz']);
const ANONYMOUS: Client = { kind: 'anonymous' };

/** The route label of a request refused here, before the route table has seen it. */
function routeLabel(path: string, method: string): string {
  if (path === '/metrics') return 'metrics';
  if (path === '/v2' || path === '/v2/') return 'base';
  if (!path.startsWith('/v2/')) return 'unknown';
  if (method !== 'GET' && method !== 'HEAD') return 'write';
  if (/\/blobs\/uploads(\/|$)/.test(path)) return 'write';
  if (/\/manifests\/[^/]+$/.test(path)) return 'manifest';
  if (/\/blobs\/[^/]+$/.test(path)) return 'blob';
  if (/\/tags\/list$/.test(path)) return 'tags';
  if (/\/referrers\/[^/]+$/.test(path)) return 'referrers';
  return 'unknown';
}

export function unauthorized(realm: string, message = 'authentication required'): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, undefined, { 'www-authenticate': `Basic realm="${realm}"` });
}

export function clientAuth(deps: ClientAuthDeps): Middleware<RequestState> {
  const { authenticator, policy, realm } = deps;
  return async (ctx, next) => {
    const path = ctx.path;
    if (ALWAYS_OPEN.has(path) || (path === '/metrics' && !deps.metricsRequireAuth)) return next();
    const root = path === '/v2' || path === '/v2/' || path === '/metrics';
    ctx.state.route = routeLabel(path, ctx.method);
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
    const api = root || (path.startsWith('/v2/') && !policy.anyAnonymous);
    if (policy.authEnabled && who.kind === 'anonymous' && api) throw unauthorized(realm);
    return next();
  };
}
