/**
 * Cold fills across nodes: time to first byte of a client on the node that owns a fill, and of
 * a client on another node that asks while the fill runs, with and without peer streaming
 * (cluster.peerListen). The upstream is throttled so that a fill lasts long enough to ask
 * during it; every round fills a blob no node has.
 */
import { join } from 'node:path';
import { request } from 'undici';
import { spawnNode, writeNodeConfig, type Node } from '../test/e2e/cluster-nodes.js';
import type { Ceph } from '../test/support/ceph.js';
import { makeImageSpec, pushImage } from '../test/support/images.js';
import { startFaultProxy } from '../test/support/proxy.js';
import { startRedis } from '../test/support/redis.js';
import type { Registry } from '../test/support/registry.js';

const MiB = 1024 * 1024;

export interface ColdResult {
  readonly name: string;
  /** Medians over the rounds, ms from each client's own request. */
  readonly ownerTtfbMs: number;
  readonly otherTtfbMs: number;
  /** Median time of the whole fill, as the owner's client saw it. */
  readonly fillMs: number;
}

export interface ColdOptions {
  readonly ceph: Ceph;
  readonly registry: Registry;
  readonly dir: string;
  readonly layerMiB: number;
  readonly throttleMiBs: number;
  readonly runs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Starts a GET; resolves once its first body byte arrived, with the time, and the whole-body promise. */
async function firstByte(url: string): Promise<{ ttfbMs: number; rest: Promise<number> }> {
  const t = performance.now();
  const res = await request(url, { highWaterMark: MiB });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${res.statusCode}`);
  const it = res.body[Symbol.asyncIterator]();
  const first = await it.next();
  const ttfbMs = performance.now() - t;
  if (first.done) throw new Error(`GET ${url}: empty body`);
  const rest = (async () => {
    for (let r = await it.next(); !r.done; r = await it.next());
    return performance.now() - t;
  })();
  return { ttfbMs, rest };
}

export async function measureCold(opts: ColdOptions, peer: boolean): Promise<ColdResult> {
  const name = peer ? 'peer streaming' : 'wait for the commit';
  const redis = await startRedis();
  const proxy = await startFaultProxy(opts.registry.url);
  proxy.fault({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: opts.throttleMiBs * MiB });
  const nodes: Node[] = [];
  try {
    const bucket = peer ? 'bench-cold-peer' : 'bench-cold-wait';
    const cfg = { dir: join(opts.dir, bucket), upstream: proxy.url, ceph: opts.ceph, bucket, redisUrl: redis.url, leaseTtl: '5s', ...(peer ? { peerSecret: 'bench-peer-secret' } : {}) };
    for (const n of ['owner', 'other']) nodes.push(await spawnNode(await writeNodeConfig(n, cfg)));
    const [owner, other] = [nodes[0]!, nodes[1]!];
    const owners: number[] = [];
    const others: number[] = [];
    const fills: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const image = await pushImage(opts.registry.url, 'bench/cold', `${name.replace(/ /g, '-')}-${i}`, makeImageSpec({ seed: `bench-cold-${peer}-${i}`, layerSizes: [opts.layerMiB * MiB], mediaTypeFamily: 'docker' }));
      const layer = image.layers[0]!;
      const path = `/v2/${image.repo}/blobs/${layer.digest}`;
      // The owner's first byte means its fill holds the lease and runs: the other node asks now.
      const a = await firstByte(`${owner.url}${path}`);
      const b = await firstByte(`${other.url}${path}`);
      owners.push(a.ttfbMs);
      others.push(b.ttfbMs);
      fills.push(await a.rest);
      await b.rest;
    }
    return { name, ownerTtfbMs: median(owners), otherTtfbMs: median(others), fillMs: median(fills) };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await proxy.close();
    await redis.close();
  }
}
