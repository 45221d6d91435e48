/** Starts berth as a child process (its own PID, so its peak RSS can be read) on a fresh data dir. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/ports.js';
import { spawnDaemon, type Daemon } from '../test/support/proc.js';
import { makeTempDir } from '../test/support/tempdir.js';
import { waitForHttp } from '../test/support/wait.js';
import type { Cleanup } from './cleanup.js';

export interface BerthDaemon {
  url: string;
  pid: number;
  dataDir: string;
  logs(): string;
  close(): Promise<void>;
}

/** dist/bench/berth.js → dist/src/main.js; BENCH_BERTH_MAIN benchmarks another build instead. */
export const BERTH_MAIN = process.env.BENCH_BERTH_MAIN || fileURLToPath(new URL('../src/main.js', import.meta.url));

/** `upstream`: extra settings for the upstream (e.g. parallelFetch); `workers`: berth's --workers (absent = its default). */
export async function startBerth(cleanup: Cleanup, upstreamUrl: string, upstream: Record<string, unknown> = {}, workers?: number): Promise<BerthDaemon> {
  const tmp = await makeTempDir('bench-berth');
  const port = await freePort();
  const dataDir = join(tmp.path, 'data');
  const configPath = join(tmp.path, 'berth.yaml');
  // JSON is YAML. Log level warn: no per-request access log lines during the measurements.
  const config = {
    listen: `127.0.0.1:${port}`,
    storage: { path: dataDir, fsync: false },
    log: { level: 'warn' },
    upstreams: { 'docker.io': { url: upstreamUrl, tagTtl: '5m', ...upstream } },
  };
  await writeFile(configPath, JSON.stringify(config, null, 2));
  let daemon: Daemon | undefined;
  const close = cleanup.add({
    name: 'berth',
    close: async () => {
      await daemon?.stop(5_000);
      await tmp.close();
    },
  });
  daemon = spawnDaemon(process.execPath, [BERTH_MAIN, 'serve', '--config', configPath, ...(workers !== undefined ? ['--workers', String(workers)] : [])], { cwd: tmp.path });
  const d = daemon;
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/v2/`, { okStatuses: [200], deadlineMs: 20_000, abortOn: d.exited, describe: () => `berth output:\n${d.output()}` });
  } catch (e) {
    await close();
    throw e;
  }
  return { url, pid: d.pid, dataDir, logs: () => d.output(), close };
}
