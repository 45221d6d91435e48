/** What every scenario shares: options, teardown, the stage, the mirrors and the raw results. */
import type { FaultProxy } from '../test/support/proxy.js';
import type { ThroughputResult } from './blob-get.js';
import { startBerth } from './berth.js';
import type { Cleanup } from './cleanup.js';
import { startDistribution } from './distribution.js';
import type { HeadLoadResult } from './head-load.js';
import type { BenchOptions } from './options.js';
import type { Memory } from './procstat.js';
import type { Stage } from './setup.js';
import type { FetchStats } from './upstream-counts.js';
import type { WarmRun } from './scenario-warm.js';

export type MirrorKind = 'berth' | 'distribution';
export const MIRRORS: readonly MirrorKind[] = ['berth', 'distribution'];

export interface Mirror {
  kind: MirrorKind;
  url: string;
  pid: number;
  /** berth's data dir (to find its cached blob file); undefined for distribution. */
  dataDir: string | undefined;
  close(): Promise<void>;
}

export interface ConcurrentResult {
  clients: number;
  wallMs: number;
  bytes: number;
  failedPulls: number;
  fetch: FetchStats;
  memory: Memory | undefined;
  /** RSS right after the daemon started, before the pulls (bytes). */
  idleRss: number | undefined;
  /** CPU seconds the daemon used during the pulls. */
  cpu: number;
  /** Whether VmHWM was reset right before the pulls (else it is the peak since start). */
  peakReset: boolean;
}

export interface SideResults {
  coldMs: number[];
  warmMs: number[];
  /** The daemon's CPU seconds per cold and per warm pull. */
  coldCpu: number[];
  warmCpu: number[];
  coldFetch: FetchStats | undefined;
  concurrent: Map<number, ConcurrentResult>;
  blob: ThroughputResult | undefined;
  head: HeadLoadResult | undefined;
}

export interface Results {
  directMs: number[];
  /** The same pull through a counting proxy: what the extra hop alone costs. */
  directViaProxyMs: number[];
  nginx: ThroughputResult | undefined;
  nginxSource: string | undefined;
  berth: SideResults;
  distribution: SideResults;
  /** The warm data-plane cases, once per --workers setting. */
  warm: WarmRun[];
  /** Failures by measurement key (e.g. "berth.c16"), shown as errors in the table. */
  errors: Map<string, string>;
}

export interface Ctx {
  opts: BenchOptions;
  cleanup: Cleanup;
  stage: Stage;
  results: Results;
}

const emptySide = (): SideResults => ({ coldMs: [], warmMs: [], coldCpu: [], warmCpu: [], coldFetch: undefined, concurrent: new Map(), blob: undefined, head: undefined });

export function emptyResults(): Results {
  return { directMs: [], directViaProxyMs: [], nginx: undefined, nginxSource: undefined, berth: emptySide(), distribution: emptySide(), warm: [], errors: new Map() };
}

export function proxyOf(ctx: Ctx, kind: MirrorKind): FaultProxy {
  return kind === 'berth' ? ctx.stage.berthProxy : ctx.stage.distProxy;
}

/** A fresh (cold) mirror in front of its own counting proxy. */
export async function startMirror(ctx: Ctx, kind: MirrorKind): Promise<Mirror> {
  const upstream = proxyOf(ctx, kind).url;
  if (kind === 'berth') {
    const b = await startBerth(ctx.cleanup, upstream);
    return { kind, url: b.url, pid: b.pid, dataDir: b.dataDir, close: b.close };
  }
  const d = await startDistribution(ctx.cleanup, upstream);
  return { kind, url: d.url, pid: d.pid, dataDir: undefined, close: d.close };
}

/** Runs fn (unless the bench is stopping); a failure is recorded under key and logged, never thrown. */
export async function attempt(ctx: Ctx, key: string, fn: () => Promise<void>): Promise<void> {
  if (ctx.cleanup.stopping) return;
  try {
    await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    ctx.results.errors.set(key, msg);
    process.stderr.write(`bench: ${key} failed: ${msg}\n`);
  }
}

export function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}
