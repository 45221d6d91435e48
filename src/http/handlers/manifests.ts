/** GET/HEAD /v2/<name>/manifests/<reference>: exact bytes, own media type, digest header. */
import type { Context } from 'koa';
import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { accepts, parseAccept } from '../../oci/media-types.js';
import type { Reference } from '../request.js';
import { failureToError } from '../errors.js';
import type { Services } from '../services.js';
import type { RequestState } from '../state.js';
import { routeOrThrow } from './route.js';

type Ctx = Context & { state: RequestState };

function setHeaders(ctx: Ctx, mediaType: string, digest: string, size: number, cache: string): void {
  ctx.state.cache = cache;
  ctx.set('content-type', mediaType);
  ctx.set('docker-content-digest', digest);
  ctx.set('etag', `"${digest}"`);
  ctx.set('x-cache', cache);
  ctx.set('content-length', String(size));
}

export async function handleManifest(ctx: Ctx, s: Services, name: string, reference: Reference, ns: string | undefined): Promise<void> {
  const { upstream, repository } = routeOrThrow(s.router, name, ns, ctx.state);
  const accept = parseAccept(ctx.req.headers.accept);
  const head = ctx.method === 'HEAD';
  let digest;
  let tagCache: string | undefined;
  if (reference.kind === 'tag') {
    const t = await s.manifests.tag(upstream, repository, reference.tag, accept);
    if (t.kind !== 'found') throw failureToError(t, 'MANIFEST_UNKNOWN');
    const e = t.value.entry;
    tagCache = t.value.cache;
    if (!accepts(accept, e.mediaType)) {
      throw new RegistryError('MANIFEST_UNKNOWN', 'no manifest of an accepted media type', { mediaType: e.mediaType });
    }
    if (head) {
      setHeaders(ctx, e.mediaType, e.digest, e.size, tagCache);
      ctx.status = 200;
      return;
    }
    digest = parseDigest(e.digest);
    if (!digest) throw new RegistryError('UNAVAILABLE', 'upstream gave an invalid digest');
  } else {
    digest = reference.digest;
    if (head) {
      const local = await s.manifests.local(digest);
      if (local) {
        setHeaders(ctx, local.mediaType, local.digest.value, local.bytes.length, 'HIT');
        ctx.status = 200;
        return;
      }
    }
  }
  const m = await s.manifests.manifest(upstream, repository, digest);
  if (m.kind !== 'found') throw failureToError(m, 'MANIFEST_UNKNOWN');
  const man = m.value.manifest;
  // A tag answer's freshness is what the client cares about; a digest's only says where bytes came from.
  setHeaders(ctx, man.mediaType, man.digest.value, man.bytes.length, tagCache ?? m.value.cache);
  ctx.status = 200;
  if (!head) ctx.body = man.bytes;
}
