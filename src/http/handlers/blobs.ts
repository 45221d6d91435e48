/** GET/HEAD /v2/<name>/blobs/<digest>, with Range (206/416). */
import type { Context } from 'koa';
import type { Digest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { parseRange } from '../../oci/range.js';
import { failureToError } from '../errors.js';
import type { Services } from '../services.js';
import type { RequestState } from '../state.js';
import { routeOrThrow } from './route.js';

type Ctx = Context & { state: RequestState };

export async function handleBlob(ctx: Ctx, s: Services, name: string, digest: Digest, ns: string | undefined): Promise<void> {
  const { upstream, repository } = routeOrThrow(s.router, name, ns, ctx.state);
  const common = (size: number, cache: string): void => {
    ctx.state.cache = cache;
    ctx.set('docker-content-digest', digest.value);
    ctx.set('accept-ranges', 'bytes');
    ctx.set('x-cache', cache);
    ctx.set('content-type', 'application/octet-stream');
    ctx.set('content-length', String(size));
  };
  if (ctx.method === 'HEAD') {
    const h = await s.blobs.stat(upstream, repository, digest);
    if (h.kind !== 'found') throw failureToError(h, 'BLOB_UNKNOWN');
    common(h.value.size, h.value.cache);
    ctx.status = 200;
    return;
  }
  const got = await s.blobs.open(upstream, repository, digest);
  if (got.kind !== 'found') throw failureToError(got, 'BLOB_UNKNOWN');
  const src = got.value;
  const range = parseRange(ctx.get('range') || undefined, src.size);
  if (range.kind === 'invalid' || range.kind === 'unsatisfiable') {
    src.discard?.();
    throw new RegistryError('RANGE_INVALID', 'requested range not satisfiable', undefined, { 'content-range': `bytes */${src.size}` });
  }
  if (range.kind === 'range') {
    common(range.end - range.start + 1, src.cache);
    ctx.set('content-range', `bytes ${range.start}-${range.end}/${src.size}`);
    ctx.status = 206;
    ctx.body = await src.open({ start: range.start, end: range.end });
    return;
  }
  common(src.size, src.cache);
  ctx.status = 200;
  // An explicit end lets a file stream finish with its last byte rather than one more read, so a
  // client that hangs up right after the body is not logged as having left early (499).
  ctx.body = await src.open(src.size > 0 ? { start: 0, end: src.size - 1 } : undefined);
}
