/**
 * Teardown for the whole run. Every daemon and proxy registers a closer here when it starts, and
 * every temp dir lives under one run dir (TMPDIR points there). closeAll() runs the closers newest
 * first, then stops any descendant process still alive (SIGTERM, then SIGKILL) and removes the run
 * dir. Signals, the run deadline and a synchronous exit hook all end in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { descendantPids, signalAll } from './descendants.js';

interface Entry {
  name: string;
  close: () => Promise<void>;
}

const CLOSE_TIMEOUT_MS = 15_000;
const TERM_GRACE_MS = 3_000;

export class Cleanup {
  private entries: Entry[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly runDir: string) {
    process.once('exit', () => this.lastResort());
  }

  /** True once teardown began: start nothing new. */
  get stopping(): boolean {
    return this.closing !== undefined;
  }

  /** Registers a resource; the returned function closes it now and forgets it. */
  add(entry: Entry): () => Promise<void> {
    if (this.stopping) {
      void entry.close().catch(() => undefined);
      throw new Error(`bench is stopping: not starting ${entry.name}`);
    }
    this.entries.push(entry);
    return async () => {
      const i = this.entries.indexOf(entry);
      if (i === -1) return;
      this.entries.splice(i, 1);
      await entry.close();
    };
  }

  /** Closes everything; errors are reported, never thrown. */
  closeAll(): Promise<void> {
    this.closing ??= (async () => {
      for (let e = this.entries.pop(); e !== undefined; e = this.entries.pop()) {
        try {
          await withTimeout(e.close(), CLOSE_TIMEOUT_MS, `closing ${e.name}`);
        } catch (err) {
          process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      await this.stopDescendants();
      await rm(this.runDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return this.closing;
  }

  /** SIGINT/SIGTERM: tear down, then exit with the conventional status. */
  onSignals(): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        process.stderr.write(`\nbench: ${sig}, stopping every child process\n`);
        void this.closeAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
      });
    }
  }

  /** Children that were mid-start or unregistered (ab, curl): TERM, a grace period, then KILL. */
  private async stopDescendants(): Promise<void> {
    const pids = descendantPids();
    if (signalAll(pids, 'SIGTERM') === 0) return;
    for (let waited = 0; waited < TERM_GRACE_MS && descendantPids().length > 0; waited += 100) await delay(100);
    signalAll(descendantPids(), 'SIGKILL');
  }

  private lastResort(): void {
    signalAll(descendantPids(), 'SIGKILL');
    rmSync(this.runDir, { recursive: true, force: true });
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a bench entry point under one Cleanup: every temp dir of the run (ours, test support's,
 * the daemons') under one run dir, teardown on signals, on the deadline and at the end. Exits
 * with main's code, 1 if it throws.
 */
export async function runBench(name: string, deadlineMs: number, main: (cleanup: Cleanup) => Promise<number>): Promise<never> {
  const runDir = mkdtempSync(join(tmpdir(), `berth-${name}-run-`));
  process.env.TMPDIR = runDir;
  const cleanup = new Cleanup(runDir);
  cleanup.onSignals();
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: run deadline (${deadlineMs / 1000} s) passed: stopping\n`);
    void cleanup.closeAll().finally(() => process.exit(1));
  }, deadlineMs);
  let code = 1;
  try {
    code = await main(cleanup);
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  } finally {
    clearTimeout(deadline);
    await cleanup.closeAll();
  }
  process.exit(code);
}
