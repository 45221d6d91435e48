/** Dispatch over the route table: health, metrics, then one parse of an API path and one handler per API kind. */
import type { Middleware } from 'koa';
import { RegistryError } from '../oci/errors.js';
import { handleBlob } from './handlers/blobs.js';
import { handleManifest } from './handlers/manifests.js';
import { handleReferrers } from './handlers/referrers.js';
import { handleTags } from './handlers/tags.js';
import { sendMetrics } from './metrics-app.js';
import { parseRequest } from './request.js';
import type { Services } from './services.js';
import type { RequestState } from './state.js';

export function apiRoutes(s: Services): Middleware<RequestState> {
  return async (ctx, next) => {
    const route = ctx.state.route;
    if (route.name === 'healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (route.name === 'readyz') {
      const readiness = await s.readiness();
      ctx.status = readiness.ready ? 200 : 503;
      ctx.body = readiness.body;
      return;
    }
    if (route.name === 'metrics' && s.metricsEnabled) {
      await sendMetrics(ctx, s.metrics);
      return;
    }
    if (route.access !== 'root' && route.access !== 'api') return next();
    const raw = ctx.req.url ?? '/';
    const q = raw.indexOf('?');
    const parsed = parseRequest(ctx.method, q === -1 ? raw : raw.slice(0, q), q === -1 ? '' : raw.slice(q + 1));
    const api = parsed.api;
    if (api.kind === 'upload' || route.name === 'write') throw new RegistryError('UNSUPPORTED', 'this registry mirror is read-only');
    switch (api.kind) {
      case 'base':
        ctx.type = 'application/json';
        ctx.body = '{}';
        return;
      case 'manifest':
        return handleManifest(ctx, s, api.name, api.reference, parsed.ns);
      case 'blob':
        return handleBlob(ctx, s, api.name, api.digest, parsed.ns);
      case 'tags':
        return handleTags(ctx, s, api.name, parsed.ns, api.n, api.last);
      case 'referrers':
        return handleReferrers(ctx, s, api.name, api.digest, parsed.ns, api.artifactType);
    }
  };
}
