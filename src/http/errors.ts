/** Maps upstream failures to registry errors, and renders every error as OCI JSON. */
import type { Middleware } from 'koa';
import { RegistryError, type ErrorCode } from '../oci/errors.js';
import type { Failure } from '../upstream/types.js';
import type { RequestState } from './state.js';

export function failureToError(f: Failure | { kind: 'store-unavailable'; cause: string }, absent: ErrorCode): RegistryError {
  switch (f.kind) {
    case 'absent':
      return new RegistryError(absent);
    case 'denied':
      return new RegistryError('DENIED', 'upstream denied access: the repository does not exist or needs credentials');
    case 'ratelimited':
      return new RegistryError('TOOMANYREQUESTS', 'upstream rate limit reached', undefined, { 'retry-after': f.retryAfter ?? '60' });
    case 'unreachable':
      return new RegistryError('UNAVAILABLE', f.cause === 'offline' ? 'upstream is offline and the cache cannot answer' : 'upstream unavailable');
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
      ctx.status = e ? re.status : 500;
      for (const [k, v] of Object.entries(re.headers)) ctx.set(k, v);
      ctx.type = 'application/json';
      ctx.body = re.body();
    }
  };
}
