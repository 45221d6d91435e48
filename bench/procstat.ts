/** Memory and CPU time of a child process from /proc/PID (Linux). */
import { readFile, writeFile } from 'node:fs/promises';
import { run } from '../test/support/proc.js';
import { descendantPids } from './descendants.js';

export interface Memory {
  /** Peak resident set size (VmHWM), bytes. */
  peak: number;
  /** Current resident set size (VmRSS), bytes. */
  current: number;
}

function kib(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc status`);
  return Number(m[1]) * 1024;
}

export async function memoryOf(pid: number): Promise<Memory> {
  if (pid <= 0) throw new Error('process is not running');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { peak: kib(status, 'VmHWM'), current: kib(status, 'VmRSS') };
}

/**
 * Resets VmHWM to the current RSS (writing 5 to clear_refs), so the next reading is the peak
 * of what follows. Returns false where the kernel or permissions don't allow it.
 */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

let ticksPerSecond: Promise<number> | undefined;

function clockTicks(): Promise<number> {
  ticksPerSecond ??= run('getconf', ['CLK_TCK'], { timeoutMs: 5_000 }).then(
    (r) => Number(r.stdout.trim()) || 100,
    () => 100,
  );
  return ticksPerSecond;
}

/** User + system CPU seconds the process (all its threads) has used so far. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // "pid (comm) state ppid ... utime stime": fields 14 and 15, counted after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / (await clockTicks());
}

/** Runs fn and returns its result with the CPU seconds `pid` and its workers used meanwhile (NaN if unreadable). */
export async function withCpu<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; cpu: number }> {
  const before = await treeCpuSecondsOf(pid).catch(() => Number.NaN);
  const value = await fn();
  const after = await treeCpuSecondsOf(pid).catch(() => Number.NaN);
  return { value, cpu: after - before };
}

/** A daemon and its worker processes: the peak of the largest one, and the sum over all of them. */
export interface TreeMemory extends Memory {
  /** Sum of every process's peak (an upper bound of the tree's peak). */
  peakTotal: number;
  processes: number;
}

export async function treeMemoryOf(pid: number): Promise<TreeMemory> {
  const all = await Promise.all([pid, ...descendantPids(pid)].map((p) => memoryOf(p).catch(() => undefined)));
  const got = all.filter((m): m is Memory => m !== undefined);
  if (got.length === 0) throw new Error('process is not running');
  return {
    peak: Math.max(...got.map((m) => m.peak)),
    current: got.reduce((a, m) => a + m.current, 0),
    peakTotal: got.reduce((a, m) => a + m.peak, 0),
    processes: got.length,
  };
}

export async function resetTreePeak(pid: number): Promise<boolean> {
  const done = await Promise.all([pid, ...descendantPids(pid)].map((p) => resetPeak(p)));
  return done.every(Boolean);
}

/** CPU seconds of a daemon and its worker processes. */
export async function treeCpuSecondsOf(pid: number): Promise<number> {
  const all = await Promise.all([pid, ...descendantPids(pid)].map((p) => cpuSecondsOf(p).catch(() => 0)));
  return all.reduce((a, b) => a + b, 0);
}
