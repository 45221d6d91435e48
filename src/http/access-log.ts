/** Request id, child logger, one access-log line and the HTTP metrics per request. */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { classifyRoute } from './route-table.js';
import type { RequestState } from './state.js';

export function accessLog(logger: Logger, metrics: Metrics): Middleware<RequestState> {
  return async (ctx, next) => {
    const started = performance.now();
    const id = (ctx.get('x-request-id') || randomUUID()).slice(0, 64);
    ctx.state.id = id;
    ctx.state.route = classifyRoute(ctx.method, ctx.path);
    ctx.state.log = logger.child({ reqId: id });
    ctx.set('x-request-id', id);
    ctx.set('docker-distribution-api-version', 'registry/2.0');
    const res = ctx.res;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      const ms = performance.now() - started;
      const complete = res.writableFinished;
      const status = complete ? res.statusCode : 499;
      const length = Number(res.getHeader('content-length') ?? 0);
      const bytes = complete && ctx.method !== 'HEAD' ? length : 0;
      const s = ctx.state;
      metrics.httpRequests.inc({ route: s.route.name, method: ctx.method, status: String(status) });
      metrics.httpDuration.observe({ route: s.route.name }, ms / 1000);
      if (bytes > 0 && s.cache !== undefined) metrics.servedBytes.inc({ source: s.cache === 'HIT' || s.cache === 'STALE' ? 'cache' : 'upstream' }, bytes);
      s.log.info({ method: ctx.method, route: s.route.name, status, bytes, ms: Math.round(ms * 10) / 10, cache: s.cache, upstream: s.upstream, client: s.client, error: s.error }, 'request');
    };
    res.once('finish', finish);
    res.once('close', finish);
    await next();
  };
}
