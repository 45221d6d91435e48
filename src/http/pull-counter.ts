/** Counts each successful manifest GET per `upstream/repository` for the status page's most-pulled list. */
import type { Middleware } from 'koa';
import type { RequestState } from './state.js';

export function pullCounter(pulled: (image: string) => void): Middleware<RequestState> {
  return async (ctx, next) => {
    await next();
    const s = ctx.state;
    if (s.route.name === 'manifest' && ctx.method === 'GET' && ctx.status === 200 && s.upstream !== undefined && s.repository !== undefined) {
      pulled(`${s.upstream}/${s.repository}`);
    }
  };
}
