/** Maps upstream failures to registry errors, and renders every error as OCI JSON. */
import type { Middleware } from 'koa';
import { RegistryError, type ErrorCode } from '../oci/errors.js';
import { detailOf, summary } from '../upstream/cause-detail.js';
import type { Failure } from '../upstream/types.js';
import type { RequestState } from './state.js';

export function failureToError(f: Failure | { kind: 'store-unavailable'; cause: string }, absent: ErrorCode): RegistryError {
  switch (f.kind) {
    case 'absent':
      return new RegistryError(absent);
    case 'denied':
      return new RegistryError('DENIED', 'upstream denied access: the repository does not exist or needs credentials', detailOf(f.cause));
    case 'ratelimited':
      return new RegistryError('TOOMANYREQUESTS', 'upstream rate limit reached', detailOf(f.cause), { 'retry-after': f.retryAfter ?? '60' });
    case 'unreachable': {
      const message = f.cause.kind === 'offline' ? 'upstream is offline and the cache cannot answer' : `upstream unavailable: ${summary(f.cause)}`;
      return new RegistryError('UNAVAILABLE', message, detailOf(f.cause));
    }
    case 'store-unavailable':
      return new RegistryError('UNAVAILABLE', 'cache store unavailable');
  }
}

export function errorMiddleware(): Middleware<RequestState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const e = err instanceof RegistryError ? err : undefined;
      if (!e) ctx.state.log.error({ err }, 'handler failed');
      if (ctx.headerSent) {
        ctx.res.destroy();
        return;
      }
      const re = e ?? new RegistryError('UNAVAILABLE', 'internal error');
      // The access-log line carries what the client is told, cause included.
      ctx.state.error = { code: re.code, ...re.detail };
      ctx.status = e ? re.status : 500;
      for (const [k, v] of Object.entries(re.headers)) ctx.set(k, v);
      ctx.type = 'application/json';
      ctx.body = re.body();
    }
  };
}
