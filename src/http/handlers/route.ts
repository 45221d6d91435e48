/** Resolves the parsed name to an upstream and repository the client may use, or throws the registry error. */
import { RegistryError } from '../../oci/errors.js';
import type { Router } from '../../upstream/router.js';
import type { Upstream } from '../../upstream/types.js';
import type { RequestState } from '../state.js';

export function routeOrThrow(router: Router, name: string, ns: string | undefined, state: RequestState): { upstream: Upstream; repository: string } {
  const r = router.route(name, ns);
  if (r.kind === 'unknown-registry') throw new RegistryError('NAME_UNKNOWN', 'registry is not configured on this mirror', { registry: r.registry });
  if (r.kind === 'invalid-name') throw new RegistryError('NAME_INVALID', 'invalid repository name');
  state.upstream = r.upstream.name;
  state.repository = r.repository;
  // Access is decided on the route's upstream here, before any handler consults the cache.
  const refusal = state.authorize ? state.authorize(r.upstream.name) : new RegistryError('DENIED', 'no access decision');
  if (refusal) throw refusal;
  return r;
}
