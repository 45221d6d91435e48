/** The `berth` bin as a child process: for signals, kill -9 and CLI commands. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noProxyEnv, run, type RunResult } from '../support/proc.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'dist', 'src', 'main.js');

export interface Daemon {
  readonly child: ChildProcess;
  readonly url: string;
  /** Every JSON log record so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/** Spawns `berth serve --config FILE`; ready when `listeners` processes (workers) logged their URL. */
export async function spawnBerth(configFile: string, extraArgs: string[] = [], listeners = 1): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile, '--log-level', 'info', ...extraArgs], {
    cwd: ROOT,
    env: noProxyEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth did not start: ${stderr.join('')}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(rec);
      if (rec.msg === 'listening' && typeof rec.url === 'string' && logs.filter((r) => r.msg === 'listening').length >= listeners) {
        clearTimeout(timer);
        resolve(rec.url);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`berth exited ${code}: ${stderr.join('')}`));
    });
  });
  return {
    child,
    url,
    logs,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a one-shot CLI command (`verify`, `config check`) to completion. */
export function berthCli(args: string[]): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], { cwd: ROOT, timeoutMs: 60_000 });
}
