/**
 * Single-blob throughput: N sequential full GETs of one URL, bytes discarded, median and best
 * MB/s. The same client is used for every server compared: curl -o /dev/null (undici tops out
 * near 1 GB/s here, below nginx). It runs when the cache is warm: the proxies are idle then.
 */
import { Agent, request } from 'undici';
import { run } from '../test/support/proc.js';

export type BlobClient = 'undici' | 'curl';

export interface ThroughputResult {
  /** MB/s (10^6 bytes per second) of each GET. */
  runs: number[];
  median: number;
  best: number;
}

const MB = 1_000_000;

async function undiciGet(url: string, size: number, agent: Agent, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs), highWaterMark: 1 << 20 });
  let n = 0;
  for await (const c of res.body) n += (c as Buffer).length;
  if (res.statusCode !== 200 || n !== size) throw new Error(`GET ${url}: HTTP ${res.statusCode}, ${n} of ${size} bytes`);
  return performance.now() - started;
}

async function curlGet(url: string, size: number, timeoutMs: number): Promise<number> {
  const r = await run('curl', ['-sS', '-o', '/dev/null', '--noproxy', '*', '-w', '%{http_code} %{size_download} %{time_total}', url], { timeoutMs });
  const [code, bytes, secs] = r.stdout.trim().split(' ');
  if (r.code !== 0 || code !== '200' || Number(bytes) !== size) throw new Error(`curl ${url}: exit ${r.code} ${r.stdout} ${r.stderr}`);
  return Number(secs) * 1000;
}

export interface ThroughputTarget {
  name: string;
  url: string;
}

/**
 * Measures every target in alternation (one GET each per round, an untimed warm-up round first),
 * so a drift in the machine's speed affects all of them alike.
 */
export async function blobThroughput(targets: readonly ThroughputTarget[], size: number, count: number, client: BlobClient, timeoutMs: number): Promise<Map<string, ThroughputResult>> {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const runs = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  try {
    for (let round = 0; round <= count; round++) {
      for (const t of targets) {
        const ms = client === 'curl' ? await curlGet(t.url, size, timeoutMs) : await undiciGet(t.url, size, agent, timeoutMs);
        if (round > 0) runs.get(t.name)?.push(size / MB / (ms / 1000));
      }
    }
  } finally {
    await agent.destroy();
  }
  const out = new Map<string, ThroughputResult>();
  for (const [name, xs] of runs) {
    const sorted = [...xs].sort((a, b) => a - b);
    out.set(name, { runs: xs, median: sorted[Math.floor(sorted.length / 2)] ?? 0, best: sorted[sorted.length - 1] ?? 0 });
  }
  return out;
}
