/** GET /v2/<name>/tags/list: relayed from the upstream (X-Cache: MISS), with pagination links rewritten to our name. */
import type { Context } from 'koa';
import { failureToError } from '../errors.js';
import type { Services } from '../services.js';
import type { RequestState } from '../state.js';
import { routeOrThrow } from './route.js';

type Ctx = Context & { state: RequestState };

export async function handleTags(ctx: Ctx, s: Services, name: string, ns: string | undefined, n?: number, last?: string): Promise<void> {
  const { upstream, repository } = routeOrThrow(s.router, name, ns, ctx.state);
  const q = new URLSearchParams();
  if (n !== undefined) q.set('n', String(n));
  if (last !== undefined) q.set('last', last);
  const qs = q.toString();
  const got = await upstream.getJson(repository, `tags/list${qs ? `?${qs}` : ''}`);
  if (got.kind !== 'found') throw failureToError(got, 'NAME_UNKNOWN');
  const link = got.value.headers.link;
  if (link) {
    const ours = link.replace(`/v2/${repository}/`, `/v2/${name}/`);
    ctx.set('link', ns && !ours.includes('ns=') ? ours.replace(/\?([^>]*)>/, `?$1&ns=${encodeURIComponent(ns)}>`) : ours);
  }
  // Tag lists are relayed, never cached: every answer came from the upstream just now.
  ctx.state.cache = 'MISS';
  ctx.set('x-cache', 'MISS');
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = got.value.bytes;
}
