/** Resident memory of a child process from /proc/PID/status (Linux). */
import { readFile, writeFile } from 'node:fs/promises';

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
