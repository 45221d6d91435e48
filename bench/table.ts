/** Turns the raw results into the table rows, with each target's ratio and verdict. */
import type { ConcurrentResult, Ctx, SideResults } from './context.js';
import type { Row } from './report.js';

const MiB = 1024 * 1024;

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const fmt = (v: number | undefined, unit: string, digits: number): string => (v === undefined || Number.isNaN(v) ? '—' : `${v.toFixed(digits)}${unit}`);
const secs = (ms: number | undefined): string => fmt(ms === undefined ? undefined : ms / 1000, ' s', 2);
const ratio = (a: number | undefined, b: number | undefined, of: string): string =>
  a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}× ${of}`;

export function buildRows(ctx: Ctx): Row[] {
  const { results: r, opts } = ctx;
  const err = (key: string, text: string): string => (r.errors.has(key) && text === '—' ? 'error' : text);
  const rows: Row[] = [];
  const sizeMiB = opts.layerSizes.reduce((a, b) => a + b, 0) / MiB;
  const nCold = opts.coldRepeats > 1 ? `, median of ${opts.coldRepeats}` : '';

  const bCold = median(r.berth.coldMs);
  const dCold = median(r.distribution.coldMs);
  const direct = median(r.directMs);
  rows.push({
    metric: `cold pull, ${sizeMiB} MiB image (s${nCold})`,
    berth: err('berth.cold', secs(bCold)),
    distribution: err('distribution.cold', secs(dCold)),
    reference: err('direct', secs(direct)),
    ratio: ratio(bCold, direct, 'direct'),
    target: '≤ 1.2× direct, ≤ distribution',
    pass: bCold !== undefined && direct !== undefined && bCold / direct <= 1.2 && (dCold === undefined || bCold <= dCold),
  });
  const viaProxy = median(r.directViaProxyMs);
  rows.push({
    metric: 'reference: the same pull straight through the counting proxy (s)',
    berth: '',
    distribution: '',
    reference: err('direct.proxy', secs(viaProxy)),
    ratio: ratio(bCold, viaProxy, 'via proxy'),
    target: '',
    pass: undefined,
  });
  const bWarm = median(r.berth.warmMs);
  rows.push({
    metric: `warm pull (s, median of ${opts.warmRepeats})`,
    berth: err('berth.warm', secs(bWarm)),
    distribution: err('distribution.warm', secs(median(r.distribution.warmMs))),
    reference: secs(direct),
    ratio: ratio(bWarm, direct, 'direct'),
    target: '',
    pass: undefined,
  });

  for (const n of opts.concurrency) rows.push(...concurrentRows(ctx, n));

  const layerMiB = Math.max(...opts.layerSizes) / MiB;
  const bBlob = r.berth.blob?.median;
  const nginx = r.nginx?.median;
  rows.push({
    metric: `warm single-blob GET, ${layerMiB} MiB layer (MB/s, median of ${opts.blobGets})`,
    berth: err('berth.blob', fmt(bBlob, '', 0)),
    distribution: err('distribution.blob', fmt(r.distribution.blob?.median, '', 0)),
    reference: err('berth.blob', fmt(nginx, ' (nginx)', 0)),
    ratio: ratio(bBlob, nginx, 'nginx'),
    target: '≥ 0.9× nginx',
    pass: bBlob !== undefined && nginx !== undefined && bBlob / nginx >= 0.9,
  });

  const bHead = r.berth.head;
  const dHead = r.distribution.head;
  rows.push({
    metric: `warm tag HEAD (req/s; up to ${opts.headRequests} requests or ${opts.headMaxSeconds} s, concurrency ${opts.headConcurrency})`,
    berth: err('berth.head', fmt(bHead?.rps, '', 0)),
    distribution: err('distribution.head', fmt(dHead?.rps, '', 0)),
    reference: '',
    ratio: ratio(bHead?.rps, dHead?.rps, 'distribution'),
    target: '≥ 20× distribution',
    pass: bHead !== undefined && dHead !== undefined && bHead.rps / dHead.rps >= 20,
  });
  rows.push({
    metric: 'warm tag HEAD p99 latency (ms)',
    berth: err('berth.head', fmt(bHead?.p99Ms, '', 2)),
    distribution: err('distribution.head', fmt(dHead?.p99Ms, '', 2)),
    reference: '',
    ratio: ratio(bHead?.p99Ms, dHead?.p99Ms, 'distribution'),
    target: '',
    pass: undefined,
  });

  const peakClients = Math.max(...opts.concurrency);
  const peak = (s: SideResults): number | undefined => {
    const m = s.concurrent.get(peakClients)?.memory;
    return m === undefined ? undefined : m.peak / MiB;
  };
  const bPeak = peak(r.berth);
  rows.push({
    metric: `peak RSS (VmHWM) during ${peakClients} cold pulls (MiB, largest process)`,
    berth: err(`berth.c${peakClients}`, fmt(bPeak, '', 0)),
    distribution: err(`distribution.c${peakClients}`, fmt(peak(r.distribution), '', 0)),
    reference: '',
    ratio: '',
    target: '≤ 150 MiB per process',
    pass: bPeak !== undefined && bPeak <= 150,
  });
  return rows;
}

function concurrentRows(ctx: Ctx, n: number): Row[] {
  const { results: r } = ctx;
  const b = r.berth.concurrent.get(n);
  const d = r.distribution.concurrent.get(n);
  const err = (key: string, text: string): string => (r.errors.has(key) && text === '—' ? 'error' : text);
  const wall = (c: ConcurrentResult | undefined): string => {
    if (!c) return '—';
    const gbps = c.bytes / 1e9 / (c.wallMs / 1000);
    return `${secs(c.wallMs)} (${gbps.toFixed(2)} GB/s${c.failedPulls ? `, ${c.failedPulls} failed` : ''})`;
  };
  const fetches = (c: ConcurrentResult | undefined): string => (c ? `${c.fetch.max} / ${c.fetch.mean.toFixed(2)}` : '—');
  const one = b !== undefined && b.fetch.max === 1 && b.fetch.min === 1;
  return [
    {
      metric: `${n} concurrent cold pulls: wall time (s, aggregate rate)`,
      berth: err(`berth.c${n}`, wall(b)),
      distribution: err(`distribution.c${n}`, wall(d)),
      reference: '',
      ratio: ratio(b?.wallMs, d?.wallMs, 'distribution'),
      target: '',
      pass: undefined,
    },
    {
      metric: `${n} concurrent cold pulls: upstream GETs per blob (max / mean)`,
      berth: err(`berth.c${n}`, fetches(b)),
      distribution: err(`distribution.c${n}`, fetches(d)),
      reference: '',
      ratio: '',
      target: '= 1',
      pass: one && b.failedPulls === 0,
    },
  ];
}
