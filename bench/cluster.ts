/**
 * Scale-out benchmark, one run, three setups side by side: warm pulls through one berth node
 * backed by Ceph RGW (object storage only), through a node with the local disk cache in front
 * of RGW, and through the single-node disk store. Each node is a separate process fed by the
 * same upstream; each is warmed with one pull, then measured: whole-image skopeo pulls, and
 * blob GET throughput (sequential and 4 concurrent). Then a cold fill over two cluster nodes
 * (one bucket, one Redis, a throttled upstream): time to first byte for a client on the node
 * that fills and for one on the other node. Results: stdout and bench/results/cluster.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/cluster.js [--layer-mib 64] [--runs 5]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { spawnNode, writeNodeConfig, type Node } from '../test/e2e/cluster-nodes.js';
import { startCeph, type Ceph } from '../test/support/ceph.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../test/support/images.js';
import { startFaultProxy } from '../test/support/proxy.js';
import { startRedis } from '../test/support/redis.js';
import { startRegistry, type Registry } from '../test/support/registry.js';
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

/** Milliseconds to the first body byte and to the last, of a GET started now. */
async function timedGet(url: string, size: number): Promise<{ firstMs: number; lastMs: number }> {
  const t = performance.now();
  const res = await request(url, { headersTimeout: 600_000, bodyTimeout: 600_000 });
  let first = -1;
  let n = 0;
  for await (const c of res.body) {
    if (first < 0) first = performance.now() - t;
    n += (c as Buffer).length;
  }
  if (res.statusCode !== 200 || n !== size) throw new Error(`GET ${url}: HTTP ${res.statusCode}, ${n} of ${size} bytes`);
  return { firstMs: first, lastMs: performance.now() - t };
}

interface ColdFill {
  readonly fillMs: number;
  readonly owner: { firstMs: number; lastMs: number };
  readonly other: { firstMs: number; lastMs: number };
}

/** Two nodes on one bucket and one Redis; the layer's upstream is throttled to `mibPerSec`. */
async function coldFill(registry: Registry, ceph: Ceph, dir: string, layerMiB: number, mibPerSec: number): Promise<ColdFill> {
  const [redis, proxy] = await Promise.all([startRedis(), startFaultProxy(registry.url)]);
  const nodes: Node[] = [];
  try {
    const image = await pushImage(registry.url, 'bench/cold', '1.0', makeImageSpec({ seed: `bench-cold-${Date.now()}`, layerSizes: [layerMiB * MiB], mediaTypeFamily: 'docker' }));
    const layer = image.layers[0]!;
    const cfg = { dir, upstream: proxy.url, ceph, bucket: 'bench-cold', redisUrl: redis.url, leaseTtl: '2s' };
    nodes.push(...(await Promise.all(['cold-a', 'cold-b'].map(async (n) => spawnNode(await writeNodeConfig(n, cfg))))));
    const path = `/v2/${image.repo}/blobs/${layer.digest}`;
    proxy.fault({ method: 'GET', path: new RegExp(layer.digest), throttleBytesPerSec: mibPerSec * MiB });
    const t = performance.now();
    const owner = timedGet(`${nodes[0]!.url}${path}`, layer.size);
    // The other node's client arrives once the owner's fill is under way.
    await proxy.waitForBytes('GET', new RegExp(layer.digest), 1);
    const other = timedGet(`${nodes[1]!.url}${path}`, layer.size);
    const [o, b] = await Promise.all([owner, other]);
    return { fillMs: performance.now() - t, owner: o, other: b };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await proxy.close();
    await redis.close();
  }
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
    const coldMiB = Math.min(layerMiB, 64);
    const cold = await coldFill(registry, ceph, tmp.path, coldMiB, 16);
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
      `Cold fill over two cluster nodes (one bucket, one Redis): a ${coldMiB} MiB layer, upstream throttled to 16 MiB/s,`,
      `one client on the node that fills it and one on the other node, arriving once the fill has begun.`,
      '',
      '| client | time to first byte (ms) | time to last byte (ms) |',
      '|---|---:|---:|',
      `| on the filling node | ${cold.owner.firstMs.toFixed(0)} | ${cold.owner.lastMs.toFixed(0)} |`,
      `| on another node | ${cold.other.firstMs.toFixed(0)} | ${cold.other.lastMs.toFixed(0)} |`,
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
