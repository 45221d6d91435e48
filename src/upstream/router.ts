/**
 * Picks the upstream for a request: containerd's `?ns=` first, then a path prefix naming a
 * configured registry, then the default (Docker Hub, `nginx` → `library/nginx`).
 * A registry that is not configured is refused, never dialled.
 */
import { canonicalRepository, isValidRepository, looksLikeHost } from '../oci/names.js';
import type { Upstream } from './types.js';

export type Route =
  | { readonly kind: 'ok'; readonly upstream: Upstream; readonly repository: string }
  | { readonly kind: 'unknown-registry'; readonly registry: string }
  | { readonly kind: 'invalid-name' };

export class Router {
  private readonly byHost = new Map<string, Upstream>();

  constructor(
    upstreams: ReadonlyArray<{ readonly upstream: Upstream; readonly aliases: readonly string[] }>,
    private readonly defaultName: string,
  ) {
    for (const { upstream, aliases } of upstreams) {
      this.byHost.set(upstream.name, upstream);
      for (const a of aliases) this.byHost.set(a.toLowerCase(), upstream);
    }
  }

  get(name: string): Upstream | undefined {
    return this.byHost.get(name);
  }

  route(name: string, ns: string | undefined): Route {
    let upstream: Upstream | undefined;
    let repository = name;
    if (ns !== undefined) {
      upstream = this.byHost.get(ns);
      if (!upstream) return { kind: 'unknown-registry', registry: ns };
      // containerd's override_path sends both `?ns=ghcr.io` and a `/v2/ghcr.io/...` path.
      const slash = name.indexOf('/');
      if (slash !== -1 && this.byHost.get(name.slice(0, slash)) === upstream) repository = name.slice(slash + 1);
    } else {
      const slash = name.indexOf('/');
      const first = slash === -1 ? name : name.slice(0, slash);
      if (slash !== -1 && looksLikeHost(first)) {
        upstream = this.byHost.get(first);
        if (!upstream) return { kind: 'unknown-registry', registry: first };
        repository = name.slice(slash + 1);
      } else {
        upstream = this.byHost.get(this.defaultName);
        if (!upstream) return { kind: 'unknown-registry', registry: this.defaultName };
      }
    }
    repository = canonicalRepository(upstream.name, repository);
    if (!isValidRepository(repository)) return { kind: 'invalid-name' };
    return { kind: 'ok', upstream, repository };
  }
}
