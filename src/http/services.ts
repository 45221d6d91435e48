/** What the HTTP layer needs from the rest of berth, built once in the composition root. */
import type { Metrics } from '../observability/metrics.js';
import type { PullThroughBlobs } from '../proxy/blobs.js';
import type { PullThroughManifests } from '../proxy/manifests.js';
import type { PullThroughReferrers } from '../proxy/referrers.js';
import type { Router } from '../upstream/router.js';
import type { ClientAuthDeps } from './client-auth.js';
import type { Readiness } from './readiness.js';
import type { StatusRouteDeps } from './status-routes.js';

export interface Services {
  readonly router: Router;
  readonly blobs: PullThroughBlobs;
  readonly manifests: PullThroughManifests;
  readonly referrers: PullThroughReferrers;
  readonly metrics: Metrics;
  readonly metricsEnabled: boolean;
  /** /readyz: the store accepts writes; upstream reachability is reported. */
  readonly readiness: () => Promise<Readiness>;
  /** Client authentication and per-upstream access rules. */
  readonly access: ClientAuthDeps;
  /** Sent in X-Berth-Version. */
  readonly version: string;
  /** This worker's index when the node runs several. */
  readonly worker?: number;
  /** The status page and /status.json; absent when `status.enabled` is false. */
  readonly status?: StatusRouteDeps & { readonly pulled: (image: string) => void };
}
