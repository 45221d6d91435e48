/** What the HTTP layer needs from the rest of berth, built once in the composition root. */
import type { Metrics } from '../observability/metrics.js';
import type { PullThroughBlobs } from '../proxy/blobs.js';
import type { PullThroughManifests } from '../proxy/manifests.js';
import type { Router } from '../upstream/router.js';

export interface Services {
  readonly router: Router;
  readonly blobs: PullThroughBlobs;
  readonly manifests: PullThroughManifests;
  readonly metrics: Metrics;
  readonly metricsEnabled: boolean;
  /** Readiness probe: the store accepts writes. */
  readonly storeWritable: () => Promise<boolean>;
}
