/** Marks every response as berth's, so `berth doctor` (and people) can tell berth from another registry. */
import type { Middleware } from 'koa';
import type { RequestState } from './state.js';

/** `worker`: which of several worker processes answered (operators and tests can tell them apart). */
export function identityHeaders(version: string, worker?: number): Middleware<RequestState> {
  return async (ctx, next) => {
    ctx.set('server', 'berth');
    ctx.set('x-berth-version', version);
    if (worker !== undefined) ctx.set('x-berth-worker', String(worker));
    await next();
  };
}
