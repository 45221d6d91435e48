/** Memory and CPU time of a child process from /proc/PID (Linux). */
import { readFile, writeFile } from 'node:fs/promises';
import { run } from '../test/support/proc.js';

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

/** Runs fn and returns its result with the CPU seconds `pid` used meanwhile (NaN if unreadable). */
export async function withCpu<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; cpu: number }> {
  const before = await cpuSecondsOf(pid).catch(() => Number.NaN);
  const value = await fn();
  const after = await cpuSecondsOf(pid).catch(() => Number.NaN);
  return { value, cpu: after - before };
}
