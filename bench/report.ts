/** The results table: Markdown for the terminal and for bench/results/latest.md. */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Row {
  metric: string;
  berth: string;
  distribution: string;
  /** nginx or direct-from-upstream reference value. */
  reference: string;
  ratio: string;
  target: string;
  /** undefined: no target for this row. */
  pass: boolean | undefined;
}

export interface Machine {
  nproc: number;
  model: string;
  ramGiB: number;
}

export async function machine(): Promise<Machine> {
  const info = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  return { nproc: cpus().length, model, ramGiB: totalmem() / 1024 ** 3 };
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

export function markdownTable(rows: readonly Row[]): string {
  const head = '| metric | berth | distribution | nginx/direct | ratio | target | pass? |\n|---|---|---|---|---|---|---|';
  const mark = (p: boolean | undefined): string => (p === undefined ? '' : p ? '✅ pass' : '❌ FAIL');
  const lines = rows.map((r) => `| ${[r.metric, r.berth, r.distribution, r.reference, r.ratio, r.target, mark(r.pass)].map(esc).join(' | ')} |`);
  return [head, ...lines].join('\n');
}

export interface Report {
  title: string;
  date: Date;
  machine: Machine;
  setup: string[];
  rows: Row[];
  notes: string[];
}

export function renderReport(r: Report): string {
  const m = r.machine;
  return [
    `# ${r.title}`,
    '',
    `- date: ${r.date.toISOString()}`,
    `- machine: ${m.nproc} × ${m.model}, ${m.ramGiB.toFixed(1)} GiB RAM, Node ${process.version}`,
    ...r.setup.map((s) => `- ${s}`),
    '',
    markdownTable(r.rows),
    '',
    ...(r.notes.length ? ['Notes:', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

/** Writes bench/results/NAME in the source tree (dist/bench/report.js → bench/results). */
export async function writeResult(name: string, markdown: string): Promise<string> {
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const path = `${dir}${name}`;
  await writeFile(path, markdown);
  return path;
}
