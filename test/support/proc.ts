import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  timedOut: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  input?: string;
}

/** Environment for child processes with every proxy variable emptied (loopback-only tests). */
export function noProxyEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) {
    env[k] = '';
  }
  env.NO_PROXY = '';
  env.no_proxy = '';
  return { ...env, ...extra };
}

/** Runs a command to completion, capturing output; kills it (SIGKILL) after timeoutMs. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawn(cmd, args, {
    env: opts.env ?? noProxyEnv(),
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  // A command that exits without reading its stdin (getconf, curl, ab) makes this write fail with
  // EPIPE; unhandled, that 'error' event would crash the calling process.
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    const stdoutBytes = Buffer.concat(out);
    return { code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** Like run() but throws unless the exit code is 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (code ${r.code}, signal ${r.signal}, timedOut ${r.timedOut}): ${r.stderr}`);
  }
  return r;
}

/** A long-running child whose recent output is kept for error messages. */
export interface Daemon {
  child: ChildProcess;
  pid: number;
  output(): string;
  exited: Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

export function spawnDaemon(cmd: string, args: string[], opts: SpawnOptions = {}): Daemon {
  const child = spawn(cmd, args, { env: noProxyEnv(), ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (b: Buffer): void => {
    log = (log + b.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const spawnError = new Promise<void>((resolve) => child.once('error', (e) => {
    keep(Buffer.from(`spawn error: ${e.message}\n`));
    resolve();
  }));
  return {
    child,
    pid: child.pid ?? -1,
    output: () => log,
    exited: Promise.race([exited, spawnError]),
    async stop(graceMs = 5_000): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
