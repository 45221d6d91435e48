/**
 * Tag HEAD load with ApacheBench (`ab -i`): a bounded number of requests (and a time limit) at
 * fixed concurrency over keep-alive connections. wrk is not used: wrk 4.1 never completes a HEAD
 * response that carries Content-Length (its parser waits for the body), so it measures nothing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../test/support/proc.js';
import { makeTempDir } from '../test/support/tempdir.js';
import { MANIFEST_ACCEPT } from './pull.js';

export interface HeadLoadResult {
  requests: number;
  failed: number;
  non2xx: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
};

/** ab -e: "Percentage served,Time in ms" then one "P,MS" line per percent 0..99. */
function percentile(csv: string, p: number): number {
  for (const line of csv.split('\n')) {
    const [pct, ms] = line.split(',');
    if (Number(pct) === p && pct !== undefined && pct.trim() !== '') return Number(ms);
  }
  return Number.NaN;
}

export async function headLoad(url: string, requests: number, concurrency: number, maxSeconds: number): Promise<HeadLoadResult> {
  const tmp = await makeTempDir('bench-ab');
  try {
    const csvPath = join(tmp.path, 'pct.csv');
    // -t before -n: -t alone implies 50000 requests, -n then sets the real bound; both apply.
    const args = ['-i', '-k', '-q', '-t', String(maxSeconds), '-n', String(requests), '-c', String(concurrency), '-s', '10', '-e', csvPath, '-H', `Accept: ${MANIFEST_ACCEPT}`, url];
    const r = await run('ab', args, { timeoutMs: (maxSeconds + 20) * 1000 });
    if (r.code !== 0) throw new Error(`ab ${url}: exit ${r.code} ${r.stderr.slice(-500)}`);
    const out = r.stdout;
    const csv = await readFile(csvPath, 'utf8');
    const result: HeadLoadResult = {
      requests: num(out, /Complete requests:\s+(\d+)/),
      failed: num(out, /Failed requests:\s+(\d+)/),
      non2xx: num(out, /Non-2xx responses:\s+(\d+)/),
      seconds: num(out, /Time taken for tests:\s+([\d.]+)/),
      rps: num(out, /Requests per second:\s+([\d.]+)/),
      p50Ms: percentile(csv, 50),
      p99Ms: percentile(csv, 99),
    };
    if (result.requests === 0) throw new Error(`ab ${url}: no request completed\n${out.slice(-1000)}`);
    if (result.non2xx > 0 || result.failed > 0) throw new Error(`ab ${url}: ${result.non2xx} non-2xx, ${result.failed} failed of ${result.requests}`);
    return result;
  } finally {
    await tmp.close();
  }
}
