/** The koa app of the optional separate metrics listener (`metrics.listen`): /metrics only. */
import Koa, { type Context, type Middleware } from 'koa';
import { RegistryError } from '../oci/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { accessLog } from './access-log.js';
import { errorMiddleware } from './errors.js';
import { identityHeaders } from './identity.js';
import type { RequestState } from './state.js';

export interface MetricsAppDeps {
  readonly metrics: Metrics;
  /** Client auth (for metrics.requireAuth). */
  readonly guard: Middleware<RequestState>;
  readonly version: string;
}

/** The Prometheus exposition of every metric: the one /metrics answer, on either listener. */
export async function sendMetrics(ctx: Context, metrics: Metrics): Promise<void> {
  ctx.type = metrics.registry.contentType;
  ctx.body = await metrics.view.text();
}

export function createMetricsApp(deps: MetricsAppDeps, logger: Logger): Koa<RequestState> {
  const app = new Koa<RequestState>();
  app.silent = true;
  app.use(identityHeaders(deps.version));
  app.use(accessLog(logger, deps.metrics));
  app.use(errorMiddleware());
  app.use(deps.guard);
  app.use(async (ctx) => {
    if (ctx.state.route.name !== 'metrics') throw new RegistryError('NOT_FOUND', 'not found');
    await sendMetrics(ctx, deps.metrics);
  });
  return app;
}
