/**
 * GET/HEAD `/` (the HTML status page) and `/status.json` (the same data). With client auth on,
 * both need an authenticated client, like the registry API itself; the client-auth middleware has
 * already identified it.
 */
import type { Middleware } from 'koa';
import { unauthorized } from './client-auth.js';
import type { StatusDoc } from './status-data.js';
import { renderStatusPage } from './status-page.js';
import type { RequestState } from './state.js';

export interface StatusRouteDeps {
  readonly build: () => Promise<StatusDoc>;
  /** Client auth is configured: anonymous clients get a 401 challenge. */
  readonly requireClient: boolean;
  readonly realm: string;
}

/** Inline styles and the SVG are the page's only resources; nothing else may load. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'";

export function statusRoutes(deps: StatusRouteDeps): Middleware<RequestState> {
  return async (ctx, next) => {
    if (ctx.state.route.name !== 'status') return next();
    const path = ctx.path;
    if (deps.requireClient && ctx.state.client === undefined) throw unauthorized(deps.realm);
    const doc = await deps.build();
    ctx.set('cache-control', 'no-store');
    ctx.set('x-content-type-options', 'nosniff');
    if (path === '/status.json') {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(doc);
      return;
    }
    ctx.set('content-security-policy', CSP);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = renderStatusPage(doc);
  };
}
