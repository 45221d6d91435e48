/** The koa application: identity headers, access log, error rendering, client auth, the API routes. */
import Koa from 'koa';
import type { Logger } from '../observability/logger.js';
import { accessLog } from './access-log.js';
import { clientAuth } from './client-auth.js';
import { errorMiddleware } from './errors.js';
import { identityHeaders } from './identity.js';
import { pullCounter } from './pull-counter.js';
import { apiRoutes } from './api-routes.js';
import { statusRoutes } from './status-routes.js';
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
  app.use(identityHeaders(services.version, services.worker));
  app.use(accessLog(logger, services.metrics));
  app.use(errorMiddleware());
  app.use(clientAuth(services.access));
  if (services.status) {
    app.use(statusRoutes(services.status));
    app.use(pullCounter(services.status.pulled));
  }
  app.use(apiRoutes(services));
  app.use(async () => {
    throw new RegistryError('NOT_FOUND', 'not found');
  });
  return app;
}
