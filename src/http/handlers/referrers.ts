/** GET /v2/<name>/referrers/<digest>: relayed from the upstream's referrers API. */
import type { Context } from 'koa';
import type { Digest } from '../../oci/digest.js';
import { OCI_INDEX } from '../../oci/media-types.js';
import type { Services } from '../services.js';
import type { RequestState } from '../state.js';
import { failureToError } from '../errors.js';
import { routeOrThrow } from './route.js';

type Ctx = Context & { state: RequestState };

export async function handleReferrers(ctx: Ctx, s: Services, name: string, digest: Digest, ns: string | undefined, artifactType?: string): Promise<void> {
  ctx.state.route = 'referrers';
  const { upstream, repository } = routeOrThrow(s.router, name, ns, ctx.state);
  const qs = artifactType !== undefined ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
  const got = await upstream.getJson(repository, `referrers/${digest.value}${qs}`, OCI_INDEX);
  ctx.status = 200;
  ctx.type = OCI_INDEX;
  if (got.kind === 'found') {
    const filtered = got.value.headers['oci-filters-applied'];
    if (filtered) ctx.set('oci-filters-applied', filtered);
    ctx.body = got.value.bytes;
    return;
  }
  if (got.kind !== 'absent') throw failureToError(got, 'MANIFEST_UNKNOWN');
  // An upstream without the referrers API: an empty index, as the spec allows.
  ctx.body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
}
