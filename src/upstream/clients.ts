/**
 * The upstreams of a config, built once from it alone: each registry client with its circuit
 * breaker and credential pool, the effective policy per upstream (offline applied), and the
 * router over them. Everything that needs an upstream's policy can be built after this.
 */
import type { Dispatcher } from 'undici';
import type { Config, UpstreamConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { Breaker, type BreakerState } from './breaker.js';
import { poolFromConfig, type CredentialPool } from './credential-pool.js';
import { quotaEvents } from './quota-events.js';
import { RegistryClient } from './registry-client.js';
import { Router } from './router.js';

const BREAKER_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface UpstreamClient {
  readonly upstream: RegistryClient;
  readonly aliases: readonly string[];
  readonly breaker: Breaker;
  readonly pool: CredentialPool;
}

export interface Upstreams {
  /** Each upstream's effective policy by name. */
  readonly policies: ReadonlyMap<string, UpstreamConfig>;
  readonly clients: readonly UpstreamClient[];
  readonly router: Router;
}

export function buildUpstreams(config: Config, metrics: Metrics, logger: Logger, external: Dispatcher): Upstreams {
  const policies = new Map<string, UpstreamConfig>();
  const clients = config.upstreams.map((u): UpstreamClient => {
    const effective: UpstreamConfig = config.offline ? { ...u, offline: true } : u;
    policies.set(u.name, effective);
    const breaker = new Breaker({
      threshold: u.breaker.failures,
      coolDownMs: u.breaker.coolDownMs,
      now: Date.now,
      onChange: (state) => {
        metrics.breakerState.set({ upstream: u.name }, BREAKER_GAUGE[state]);
        logger.warn({ upstream: u.name, state }, 'upstream circuit breaker changed state');
      },
    });
    metrics.breakerState.set({ upstream: u.name }, 0);
    const pool = poolFromConfig(effective, Date.now, quotaEvents(u.name, metrics, logger));
    return { upstream: new RegistryClient({ config: effective, metrics, external, now: Date.now, breaker, pool }), aliases: u.aliases, breaker, pool };
  });
  return { policies, clients, router: new Router(clients, config.defaultUpstream) };
}
