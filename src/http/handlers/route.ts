/** Resolves the parsed name to an upstream and repository, or throws the registry error. */
import { RegistryError } from '../../oci/errors.js';
import type { Router } from '../../upstream/router.js';
import type { Upstream } from '../../upstream/types.js';
import type { RequestState } from '../state.js';

export function routeOrThrow(router: Router, name: string, ns: string | undefined, state: RequestState): { upstream: Upstream; repository: string } {
  const r = router.route(name, ns);
  if (r.kind === 'unknown-registry') throw new RegistryError('NAME_UNKNOWN', 'registry is not configured on this mirror', { registry: r.registry });
  if (r.kind === 'invalid-name') throw new RegistryError('NAME_INVALID', 'invalid repository name');
  state.upstream = r.upstream.name;
  return r;
}
