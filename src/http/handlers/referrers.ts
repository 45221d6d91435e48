/**
 * GET /v2/<name>/referrers/<digest>[?artifactType=]: the subject's referrers as an OCI index,
 * from the pull-through referrers cache. The artifactType filter is applied here, on the
 * cached whole list, so one cached answer serves every filter.
 */
import type { Context } from 'koa';
import type { Digest } from '../../oci/digest.js';
import { OCI_INDEX } from '../../oci/media-types.js';
import { FILTERS_APPLIED_HEADER, referrersAnswer } from '../../oci/referrers.js';
import type { Services } from '../services.js';
import type { RequestState } from '../state.js';
import { failureToError } from '../errors.js';
import { routeOrThrow } from './route.js';

type Ctx = Context & { state: RequestState };

export async function handleReferrers(ctx: Ctx, s: Services, name: string, digest: Digest, ns: string | undefined, artifactType?: string): Promise<void> {
  const { upstream, repository } = routeOrThrow(s.router, name, ns, ctx.state);
  const got = await s.referrers.list(upstream, repository, digest);
  if (got.kind !== 'found') throw failureToError(got, 'MANIFEST_UNKNOWN');
  const answer = referrersAnswer(got.value.bytes, artifactType);
  ctx.state.cache = got.value.cache;
  ctx.set('x-cache', got.value.cache);
  if (answer.filtered) ctx.set(FILTERS_APPLIED_HEADER, 'artifactType');
  ctx.status = 200;
  ctx.set('content-type', OCI_INDEX);
  ctx.body = answer.bytes;
}
