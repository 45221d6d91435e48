/** Marks every response as berth's, so `berth doctor` (and people) can tell berth from another registry. */
import type { Middleware } from 'koa';
import type { RequestState } from './state.js';

export function identityHeaders(version: string): Middleware<RequestState> {
  return async (ctx, next) => {
    ctx.set('server', 'berth');
    ctx.set('x-berth-version', version);
    await next();
  };
}
