/** Runs the compiled `berth` bin: one-shot commands, or the daemon with its JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { noProxyEnv, run, type RunResult } from '../support/proc.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'dist', 'src', 'main.js');

export type LogRecord = Record<string, unknown> & { msg?: string };

export interface CliDaemon {
  readonly child: ChildProcess;
  readonly url: string;
  readonly logs: readonly LogRecord[];
  /** Resolves with the first log record (already seen or future) that matches. */
  waitForLog(match: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  stop(): Promise<void>;
}

export function runBerth(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], { cwd: ROOT, env: noProxyEnv(env), timeoutMs: 60_000 });
}

/** `berth serve --config FILE`, spawned directly so that signals reach the daemon; ready when it logs its URL. */
export async function spawnBerth(configFile: string): Promise<CliDaemon> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile, '--log-level', 'info'], {
    cwd: ROOT,
    env: noProxyEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogRecord[] = [];
  const waiters = new Set<() => void>();
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogRecord);
    } catch {
      return;
    }
    for (const w of waiters) w();
  });
  const waitForLog = (match: (r: LogRecord) => boolean, timeoutMs = 10_000): Promise<LogRecord> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = logs.find(match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const exited = once(child, 'exit');
  const started = waitForLog((r) => r.msg === 'listening');
  const ready = await Promise.race([started, exited.then(() => undefined)]);
  if (!ready) throw new Error(`berth exited: ${stderr.join('')}`);
  return {
    child,
    url: String(ready.url),
    logs,
    waitForLog,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
