/**
 * /readyz: ready when the configuration is loaded (it is, or nothing would serve) and the store
 * accepts writes. Each upstream's reachability is reported but never makes berth unready: the
 * cache still serves what it holds while an upstream is down.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Reachability } from '../upstream/reachability.js';

/** Whether a file can be written in `dir` (a full or read-only disk cannot). */
export async function dirWritable(dir: string): Promise<boolean> {
  const probe = join(dir, `.probe-${process.pid}`);
  try {
    await writeFile(probe, 'ok');
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

export interface Readiness {
  readonly ready: boolean;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface ReadinessDeps {
  readonly storeWritable: () => Promise<boolean>;
  readonly upstreams: ReadonlyArray<{ readonly name: string; readonly state: (waitMs: number) => Promise<Reachability> }>;
  /** How long one readiness answer may wait for upstream probes. */
  readonly waitMs: number;
}

export function readinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  return async () => {
    const [writable, states] = await Promise.all([
      deps.storeWritable(),
      Promise.all(deps.upstreams.map(async (u) => [u.name, await u.state(deps.waitMs)] as const)),
    ]);
    return {
      ready: writable,
      body: {
        status: writable ? 'ready' : 'not-ready',
        store: writable ? 'writable' : 'unwritable',
        config: 'loaded',
        upstreams: Object.fromEntries(states),
      },
    };
  };
}
