/** The koa application: access log, error rendering, the API routes. */
import Koa from 'koa';
import type { Logger } from '../observability/logger.js';
import { accessLog } from './access-log.js';
import { errorMiddleware } from './errors.js';
import { apiRoutes } from './router.js';
import type { Services } from './services.js';
import type { RequestState } from './state.js';
import { RegistryError } from '../oci/errors.js';

export function createKoaApp(services: Services, logger: Logger): Koa<RequestState> {
  const app = new Koa<RequestState>();
  app.silent = true;
  app.on('error', (err: unknown) => {
    // Client disconnects and broken fills surface here after headers went out: expected, not loud.
    logger.debug({ err }, 'response stream ended early');
  });
  app.use(accessLog(logger, services.metrics));
  app.use(errorMiddleware());
  app.use(apiRoutes(services));
  app.use(async (ctx) => {
    ctx.state.route = 'unknown';
    throw new RegistryError('NOT_FOUND', 'not found');
  });
  return app;
}
