/** Table rows of the warm data-plane cases (scenario-warm), one block per --workers setting. */
import type { Ctx } from './context.js';
import type { Row } from './report.js';
import type { WarmRun } from './scenario-warm.js';
import { median } from './table.js';

const MiB = 1024 * 1024;
const mbps = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(v < 10 ? 1 : 0));

function against(metric: string, berth: readonly number[], nginx: readonly number[], min: number): Row {
  const b = median(berth);
  const n = median(nginx);
  const ratio = b !== undefined && n !== undefined && n > 0 ? b / n : undefined;
  return {
    metric,
    berth: mbps(b),
    distribution: '',
    reference: `${mbps(n)} (nginx)`,
    ratio: ratio === undefined ? '—' : `${ratio.toFixed(2)}× nginx`,
    target: `≥ ${min}× nginx`,
    pass: ratio !== undefined && ratio >= min,
  };
}

function runRows(ctx: Ctx, r: WarmRun): Row[] {
  const w = `--workers ${r.label}, ${r.processes} processes`;
  const n = ctx.opts.warmRounds;
  const clients = ctx.opts.manyClients;
  const slowest = median(r.berth.many.slowest);
  const mean = median(r.berth.many.mean);
  const share = slowest !== undefined && mean !== undefined && mean > 0 ? slowest / mean : undefined;
  const peakTotal = r.manyPeakTotal === undefined ? undefined : r.manyPeakTotal / MiB;
  return [
    against(`warm single stream, fresh daemon (MB/s, median of ${n}; ${w})`, r.berth.singleFresh, r.nginx.singleFresh, 0.95),
    against(`4 parallel warm downloads, aggregate (MB/s, median of ${n}; ${w})`, r.berth.parallel.get(4) ?? [], r.nginx.parallel.get(4) ?? [], 0.9),
    against(`16 parallel warm downloads, aggregate (MB/s, median of ${n}; ${w})`, r.berth.parallel.get(16) ?? [], r.nginx.parallel.get(16) ?? [], 0.9),
    {
      ...against(`${clients} concurrent warm downloads, aggregate (MB/s; ${w})`, r.berth.many.aggregate, r.nginx.many.aggregate, 0),
      target: '',
      pass: undefined,
    },
    {
      metric: `${clients} concurrent warm downloads: slowest client / mean (MB/s; ${w})`,
      berth: `${mbps(slowest)} / ${mbps(mean)}`,
      distribution: '',
      reference: `${mbps(median(r.nginx.many.slowest))} / ${mbps(median(r.nginx.many.mean))} (nginx)`,
      ratio: share === undefined ? '—' : `${share.toFixed(2)} of mean`,
      target: '≥ 0.5 of mean',
      pass: share !== undefined && share >= 0.5,
    },
    {
      metric: `${clients} concurrent warm downloads: peak RSS, all processes (MiB; ${w})`,
      berth: peakTotal === undefined ? '—' : peakTotal.toFixed(0),
      distribution: '',
      reference: '',
      ratio: r.manyPeak === undefined ? '' : `largest process ${(r.manyPeak / MiB).toFixed(0)} MiB`,
      target: '≤ 400 MiB',
      pass: peakTotal !== undefined && peakTotal <= 400,
    },
    against(`warm single stream after the parallel and ${clients}-client cases (MB/s, median of ${n}; ${w})`, r.berth.singleAfter, r.nginx.singleAfter, 0.95),
  ];
}

export function warmRows(ctx: Ctx): Row[] {
  return ctx.results.warm.flatMap((r) => runRows(ctx, r));
}
