/**
 * `npm run bench`: berth against CNCF distribution (proxy mode), nginx and the upstream itself,
 * all on 127.0.0.1 in one process tree. Prints a Markdown table and writes bench/results/.
 * BENCH_QUICK=1: a 60 MiB image and fewer requests. BENCH_UPSTREAM_MBPS: cap upstream bandwidth.
 * BENCH_BERTH_MAIN: path of another berth build's main.js to benchmark. See bench/README.md.
 */
import { loadavg } from 'node:os';
import { BERTH_MAIN } from './berth.js';
import { runBench, type Cleanup } from './cleanup.js';
import { emptyResults, MIRRORS, progress, type Ctx } from './context.js';
import { notes, setupLines } from './notes.js';
import { benchOptions } from './options.js';
import { machine, markdownTable, renderReport, writeResult } from './report.js';
import { concurrentCold } from './scenario-concurrent.js';
import { rangedCold } from './scenario-ranged.js';
import { warmDataPlane } from './scenario-warm.js';
import { BLOB_CLIENT, directBaseline, singleMirror } from './scenario-single.js';
import { buildStage } from './setup.js';
import { buildRows } from './table.js';
import { warmRows } from './table-warm.js';
import { ensureTools } from './tools.js';

function loadNote(before: number, nproc: number): string {
  const after = loadavg()[0] ?? 0;
  const busy = before > nproc ? ' WARNING: the machine was busy before the run started, so these numbers are skewed' : '';
  return `1-minute load average: ${before.toFixed(2)} before the run, ${after.toFixed(2)} after (the run itself keeps 3-4 processes busy; more means other work shared the CPUs).${busy}`;
}

async function main(cleanup: Cleanup): Promise<number> {
  const started = performance.now();
  const loadBefore = loadavg()[0] ?? 0;
  const opts = benchOptions();
  await ensureTools();
  const host = await machine();
  if (loadBefore > host.nproc) progress(`warning: load average ${loadBefore.toFixed(1)} on ${host.nproc} CPUs: other work will skew the numbers`);
  progress(`seeding the upstream (${opts.quick ? 'quick' : 'full'} variant)`);
  const stage = await buildStage(cleanup, opts);
  const ctx: Ctx = { opts, cleanup, stage, results: emptyResults() };

  if (opts.only === undefined) {
    await directBaseline(ctx);
    for (const kind of MIRRORS) await singleMirror(ctx, kind);
    for (const n of opts.concurrency) {
      for (const kind of MIRRORS) await concurrentCold(ctx, kind, n);
    }
  }
  if (opts.only !== 'ranged') for (const workers of [1, undefined]) await warmDataPlane(ctx, workers);

  const rangedRows = opts.only === 'warm' ? [] : await rangedCold(ctx);

  // Interrupted (signal or deadline): what was measured is incomplete; write no report.
  if (cleanup.stopping) return 130;
  const rows = opts.only === 'warm' ? warmRows(ctx) : opts.only === 'ranged' ? rangedRows : [...buildRows(ctx), ...rangedRows, ...warmRows(ctx)];
  const elapsed = (performance.now() - started) / 1000;
  const markdown = renderReport({
    title: `berth benchmark${opts.quick ? ' (quick)' : ''}`,
    date: new Date(),
    machine: host,
    setup: setupLines(ctx, BLOB_CLIENT === 'curl' ? 'curl -o /dev/null' : 'undici, bytes discarded', BERTH_MAIN),
    rows,
    notes: [...notes(ctx, elapsed), loadNote(loadBefore, host.nproc)],
  });
  process.stdout.write(`\n${markdownTable(rows)}\n\n`);
  const name = `${opts.only ? `latest-${opts.only}` : 'latest'}${opts.quick ? '-quick' : ''}.md`;
  const path = await writeResult(name, markdown);
  progress(`report written to ${path}`);
  return ctx.results.errors.size > 0 ? 1 : 0;
}

await runBench('bench', benchOptions().runDeadlineMs, main);
