/**
 * `berth serve` with several workers: this process forks them (Node's cluster module shares the
 * listening sockets), owns the single-writer state (PrimaryState), forwards SIGHUP to every
 * worker, drains every worker on SIGTERM, and replaces a worker that dies.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { MetricsJson } from '../observability/metrics.js';
import { PrimaryState } from './primary-state.js';
import type { WorkerApi } from './protocol.js';
import { Peer } from './rpc.js';

/** The environment variable that tells a forked worker its index. */
export const WORKER_INDEX_ENV = 'BERTH_WORKER_INDEX';

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  readonly peer: Peer<WorkerApi>;
  listening: boolean;
}

/** `workers: auto` is one per CPU, at most 8; object storage scales by nodes, so there it is 1. */
export function workerCount(config: Config): number {
  if (config.workers !== 'auto') return config.workers;
  return config.storage.backend === 's3' ? 1 : Math.max(1, Math.min(8, availableParallelism()));
}

export async function runPrimary(config: Config, workers: number, logger: Logger): Promise<void> {
  const slots = new Map<number, Slot>();
  const live = (): Slot[] => [...slots.values()];
  const state = await PrimaryState.open(config, logger, {
    metrics: async () => {
      const got = await Promise.all(live().map((s) => withTimeout(s.peer.call('metricsJson', null), 2_000)));
      return got.filter((m): m is MetricsJson => m !== undefined);
    },
    update: (worker, u) => slots.get(worker)?.peer.notify('progress', u),
    broadcast: (change, from) => {
      for (const s of live()) if (s.worker.id !== from) s.peer.notify('tagChanged', change);
    },
    forget: (digest) => {
      for (const s of live()) s.peer.notify('forget', { digest });
    },
  });

  let stopping = false;
  let exitCode = 0;
  const fork = (index: number): void => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    const peer = new Peer<WorkerApi>(worker, state.api(worker.id), (method, err) =>
      logger.warn({ method, err: err instanceof Error ? err.message : String(err) }, 'worker request failed'),
    );
    const slot: Slot = { index, worker, peer, listening: false };
    slots.set(worker.id, slot);
    worker.once('listening', () => (slot.listening = true));
  };

  const finished = new Promise<void>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      const slot = slots.get(worker.id);
      if (!slot) return;
      slots.delete(worker.id);
      slot.peer.close();
      void state.workerDied(worker.id).finally(() => {
        if (stopping) {
          if (slots.size === 0) resolve();
          return;
        }
        if (!slot.listening) {
          // It never served: a configuration or start-up problem that a restart would repeat.
          logger.error({ worker: slot.index, code, signal }, 'worker failed to start; stopping');
          exitCode = 1;
          stop();
          if (slots.size === 0) resolve();
          return;
        }
        logger.warn({ worker: slot.index, code, signal }, 'worker exited; starting a replacement');
        fork(slot.index);
      });
    });
  });

  const stop = (): void => {
    stopping = true;
    for (const s of live()) s.worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => {
    logger.info({ signal: 'SIGTERM' }, 'shutting down');
    stop();
  });
  process.on('SIGINT', () => {
    logger.info({ signal: 'SIGINT' }, 'shutting down');
    stop();
  });
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading certificate and htpasswd in every worker');
    // A worker still starting reads the current files anyway.
    for (const s of live()) if (s.listening) s.worker.process.kill('SIGHUP');
  });

  for (let i = 0; i < workers; i++) fork(i);
  logger.info({ workers }, 'workers started');
  await finished;
  await state.close();
  logger.flush();
  process.exit(exitCode);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
