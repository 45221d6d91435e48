/**
 * `npm run bench:soak`: the issue-17 soak (test/e2e/soak-run.ts) for longer than CI runs it.
 * BENCH_SOAK_SECONDS of load (default 600), BENCH_SOAK_FAULT_RATE (default 0.05), BENCH_SOAK_SEED
 * to replay a run. Prints the report, writes bench/results/soak.md; exit 1 on any broken promise.
 */
import { runSoak, type SoakReport } from '../test/e2e/soak-run.js';
import { runBench } from './cleanup.js';
import { progress } from './context.js';
import { positive } from './options.js';
import { machine, writeResult } from './report.js';

const MiB = 1024 * 1024;

function render(r: SoakReport, seconds: number, rate: number, seed: number, host: string): string {
  const mib = (n: number | undefined): string => (n === undefined ? '?' : `${(n / MiB).toFixed(0)} MiB`);
  return [
    '# berth soak',
    '',
    `- date: ${new Date().toISOString()}; ${host}, Node ${process.version}`,
    `- ${seconds} s of load, ${(rate * 100).toFixed(1)}% upstream faults, seed ${seed}; berth in-process`,
    `- ${r.ops} client operations, ${r.coldImages} images pulled cold, ${r.upstreamRequests} upstream requests, ${r.faultsApplied} faulted: ${JSON.stringify(r.faults)}`,
    `- outcomes: ${JSON.stringify(r.outcomes)}`,
    `- open fds ${r.before.fds} → ${r.after?.fds ?? '?'}, RSS ${mib(r.before.rss)} → ${mib(r.after?.rss)}, temp files ${r.before.tempFiles.length} → ${r.after?.tempFiles.length ?? '?'}`,
    `- took ${(r.elapsedMs / 1000).toFixed(0)} s`,
    '',
    r.violations.length === 0 ? 'Every promise kept.' : ['Broken promises:', '', ...r.violations.map((v) => `- ${v}`)].join('\n'),
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const seconds = positive('BENCH_SOAK_SECONDS') ?? 600;
  const rate = positive('BENCH_SOAK_FAULT_RATE') ?? 0.05;
  const seed = positive('BENCH_SOAK_SEED') ?? 17_017;
  const m = await machine();
  const report = await runSoak({
    seed,
    loadMs: seconds * 1000,
    faultRate: rate,
    httpWorkers: 8,
    skopeoWorkers: 2,
    maxImages: Math.max(160, seconds * 2),
    maxOps: seconds * 200,
    rssGrowthBytes: 256 * MiB,
    progress,
  });
  const markdown = render(report, seconds, rate, seed, `${m.nproc} × ${m.model}`);
  process.stdout.write(`\n${markdown}`);
  progress(`report written to ${await writeResult('soak.md', markdown)}`);
  return report.violations.length === 0 ? 0 : 1;
}

// The load, then at most ten minutes for setup, the final pull of every image and verify.
await runBench('soak', ((positive('BENCH_SOAK_SECONDS') ?? 600) + 600) * 1000, main);
