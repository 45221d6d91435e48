/**
 * What an upstream's credential pool reports, turned into metrics and logs: the latest
 * remaining quota per credential (labelled by its configured name), resting credentials, and the
 * quota floor being crossed. Constant log messages; never a secret.
 */
import type { PoolEvents } from './credential-pool.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export function quotaEvents(upstream: string, metrics: Metrics, logger: Logger): PoolEvents {
  metrics.quotaBelowFloor.set({ upstream }, 0);
  return {
    remaining: (credential, remaining) => metrics.credentialRemaining.set({ upstream, credential }, remaining),
    resting: (credential, until) => logger.warn({ upstream, credential, until: new Date(until).toISOString() }, 'upstream credential out of pull quota; resting it'),
    floor: (below, best) => {
      metrics.quotaBelowFloor.set({ upstream }, below ? 1 : 0);
      if (below) logger.warn({ upstream, remaining: best }, 'upstream quota below floor; serving cached tags without revalidating');
      else logger.info({ upstream, remaining: best ?? null }, 'upstream quota back above floor; revalidating tags again');
    },
  };
}
