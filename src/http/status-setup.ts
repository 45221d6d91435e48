/** Builds the status page's route and its sampler from the services app.ts already made. */
import type { Config } from '../config/types.js';
import type { Metrics } from '../observability/metrics.js';
import { Stats } from '../observability/stats.js';
import type { Fills } from '../proxy/fill/fills.js';
import type { Breaker } from '../upstream/breaker.js';
import type { CredentialPool } from '../upstream/credential-pool.js';
import type { Reachability } from '../upstream/reachability.js';
import { buildStatus } from './status-data.js';
import type { StatusRouteDeps } from './status-routes.js';

export interface StatusUpstream {
  readonly name: string;
  readonly quotaFloor: number;
  readonly breaker?: Breaker;
  readonly pool: CredentialPool;
  readonly probe: (waitMs: number) => Promise<Reachability>;
}

export interface StatusSetup {
  readonly route: StatusRouteDeps & { readonly pulled: (image: string) => void };
  /** Starts sampling (call once serving); stop on close. */
  readonly stats: Stats;
}

/** One sample every 10 s for the last hour; the 1,000 most pulled repositories tracked, 10 shown. */
export function setUpStatus(input: {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly fills: Fills;
  readonly version: string;
  readonly realm: string;
  readonly upstreams: readonly StatusUpstream[];
  readonly now: () => number;
}): StatusSetup {
  const stats = new Stats(input.metrics, { intervalMs: 10_000, capacity: 360, topCapacity: 1_000, now: input.now });
  const startedAt = input.now();
  const upstreams = input.upstreams.map((u) => ({
    name: u.name,
    quotaFloor: u.quotaFloor,
    reachability: u.probe,
    breaker: () => u.breaker?.state,
    quota: () => ({ belowFloor: u.pool.belowFloor(), bestRemaining: u.pool.bestRemaining(), credentials: u.pool.snapshot() }),
  }));
  const build = () =>
    buildStatus({ version: input.version, startedAt, now: input.now, stats, maxSizeBytes: input.config.storage.maxSize, fills: () => input.fills.list(), upstreams, probeWaitMs: 300, topN: 10 });
  return {
    route: { build, requireClient: input.config.auth !== undefined, realm: input.realm, pulled: (image) => stats.pulled(image) },
    stats,
  };
}
