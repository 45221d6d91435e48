/**
 * Scale-out benchmark, one run, three setups side by side: warm pulls through one berth node
 * backed by Ceph RGW (object storage only), through a node with the local disk cache in front
 * of RGW, and through the single-node disk store. Each node is a separate process fed by the
 * same upstream; each is warmed with one pull, then measured: whole-image skopeo pulls, and
 * blob GET throughput (sequential and 4 concurrent). Then cold fills over two nodes on one
 * Redis (bench/cluster-cold.ts): time to first byte on the owner and on the other node, with
 * and without peer streaming. Results: stdout and bench/results/cluster.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/cluster.js [--layer-mib 64] [--runs 5] [--cold-mib 32] [--throttle-mibs 16]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { measureCold, type ColdResult } from './cluster-cold.js';
import { spawnNode, writeNodeConfig, type Node } from '../test/e2e/cluster-nodes.js';
import { startCeph } from '../test/support/ceph.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../test/support/images.js';
import { startRegistry } from '../test/support/registry.js';
import { skopeoCopy } from '../test/support/skopeo.js';
import { makeTempDir } from '../test/support/tempdir.js';

const MiB = 1024 * 1024;
const MB = 1_000_000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

async function getAll(agent: Agent, url: string, size: number): Promise<void> {
  const res = await request(url, { dispatcher: agent, highWaterMark: MiB });
  let n = 0;
  for await (const c of res.body) n += (c as Buffer).length;
  if (res.statusCode !== 200 || n !== size) throw new Error(`GET ${url}: HTTP ${res.statusCode}, ${n} of ${size} bytes`);
}

interface Result {
  readonly name: string;
  readonly pullMs: number;
  readonly seqMBs: number;
  readonly concMBs: number;
}

async function measure(name: string, node: Node, image: ImageFixture, runs: number, scratch: string): Promise<Result> {
  const pull = async (i: number): Promise<number> => {
    const t = performance.now();
    const r = await skopeoCopy(`docker://${node.host}/${image.ref}`, `dir:${join(scratch, `${name}-${i}`)}`, { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`${name}: skopeo failed: ${r.stderr}`);
    return performance.now() - t;
  };
  await pull(0);
  const pulls: number[] = [];
  for (let i = 1; i <= runs; i++) pulls.push(await pull(i));
  const layer = image.layers[0]!;
  const url = `${node.url}/v2/${image.repo}/blobs/${layer.digest}`;
  const agent = new Agent({ connections: 8 });
  const seq: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await getAll(agent, url, layer.size);
    seq.push(layer.size / MB / ((performance.now() - t) / 1000));
  }
  const conc: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await Promise.all([0, 1, 2, 3].map(() => getAll(agent, url, layer.size)));
    conc.push((4 * layer.size) / MB / ((performance.now() - t) / 1000));
  }
  await agent.close();
  return { name, pullMs: median(pulls), seqMBs: median(seq), concMBs: median(conc) };
}

async function main(): Promise<void> {
  const layerMiB = arg('layer-mib', 64);
  const runs = arg('runs', 5);
  const tmp = await makeTempDir('bench-cluster');
  const [ceph, registry] = await Promise.all([startCeph(), startRegistry()]);
  const nodes: Node[] = [];
  try {
    const image = await pushImage(registry.url, 'bench/cluster', '1.0', makeImageSpec({ seed: 'bench-cluster', layerSizes: [layerMiB * MiB, 8 * MiB], mediaTypeFamily: 'docker' }));
    const base = { dir: tmp.path, upstream: registry.url, ceph };
    const rgw = await spawnNode(await writeNodeConfig('rgw', { ...base, bucket: 'bench-rgw' }));
    nodes.push(rgw);
    const cached = await spawnNode(await writeNodeConfig('cached', { ...base, bucket: 'bench-cached', localCache: `{ path: ${JSON.stringify(join(tmp.path, 'local-cache'))}, maxSize: 4GiB }` }));
    nodes.push(cached);
    const fsDir = join(tmp.path, 'fs');
    await mkdir(fsDir, { recursive: true });
    const fsConfig = join(fsDir, 'berth.yaml');
    await writeFile(fsConfig, `listen: 127.0.0.1:0\nstorage:\n  path: ${JSON.stringify(join(fsDir, 'data'))}\n  fsync: false\nlog:\n  level: info\nupstreams:\n  docker.io:\n    url: ${JSON.stringify(registry.url)}\n`);
    const disk = await spawnNode(fsConfig);
    nodes.push(disk);

    const results: Result[] = [];
    for (const [name, node] of [['object storage (Ceph RGW)', rgw], ['local disk cache over RGW', cached], ['single-node disk store', disk]] as const) {
      results.push(await measure(name, node, image, runs, tmp.path));
    }
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    const coldMiB = arg('cold-mib', 32);
    const throttleMiBs = arg('throttle-mibs', 16);
    const coldOpts = { ceph, registry, dir: tmp.path, layerMiB: coldMiB, throttleMiBs, runs };
    const cold: ColdResult[] = [await measureCold(coldOpts, true), await measureCold(coldOpts, false)];
    const lines = [
      `# Cluster storage benchmark`,
      '',
      `Warm pulls of one image (layers ${layerMiB} MiB + 8 MiB), median of ${runs} runs, one berth process per setup,`,
      `Ceph RGW 16 (memstore, single OSD) on this machine. MB/s = 10^6 bytes/s of the ${layerMiB} MiB layer.`,
      '',
      '| setup | skopeo warm pull (ms) | blob GET, 1 client (MB/s) | blob GET, 4 clients (MB/s) |',
      '|---|---:|---:|---:|',
      ...results.map((r) => `| ${r.name} | ${r.pullMs.toFixed(0)} | ${r.seqMBs.toFixed(0)} | ${r.concMBs.toFixed(0)} |`),
      '',
      `Cold fills: a ${coldMiB} MiB blob no node has, upstream throttled to ${throttleMiBs} MiB/s, two nodes on one Redis and`,
      `one bucket. A client asks the owner node; once it has its first byte, a client asks the other node.`,
      `Time to first byte from each client's own request, median of ${runs} rounds.`,
      '',
      '| other node | owner: first byte (ms) | other node: first byte (ms) | whole fill (ms) |',
      '|---|---:|---:|---:|',
      ...cold.map((c) => `| ${c.name} | ${c.ownerTtfbMs.toFixed(0)} | ${c.otherTtfbMs.toFixed(0)} | ${c.fillMs.toFixed(0)} |`),
      '',
    ];
    const text = lines.join('\n');
    process.stdout.write(text);
    await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
    await writeFile(join(ROOT, 'bench', 'results', 'cluster.md'), text);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all([ceph.close(), registry.close()]);
    await tmp.close();
  }
}

await main();
