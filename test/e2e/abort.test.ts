/**
 * Issue 17: clients that hang up at any point leave nothing behind. 1,000 downloads, each cut
 * at a seeded random point: while their cold fill runs, while joining a running fill, on
 * committed blobs, on Range requests and on manifests. Afterwards berth holds no blob or
 * temp file open, no share of the read budget, no in-use lease, and RSS stayed bounded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { makeImageSpec, pushImage, type BlobRef, type ImageFixture } from '../support/images.js';
import { seededRandom, type Random } from '../support/prng.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { assertFlat, download, heldBy, type Download, type Held } from './downloads.js';
import { ALL_ACCEPT, startProxiedMirror, type ProxiedMirror } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SEED = 17_001;
const IMAGES = 12;
const LAYERS = 5;
// Cold and joining downloads come from the fills of the 60 layers; the rest are on committed content.
const WARM = 300;
const RANGES = 250;
const MANIFESTS = 150;
const TOTAL = 1_000;
const CONCURRENCY = 24;

type Kind = 'cold' | 'join' | 'committed' | 'range' | 'manifest';

/** Runs tasks with at most `n` at a time. */
async function pool<T>(tasks: ReadonlyArray<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  }));
  return out;
}

describe('aborted downloads leave nothing behind', () => {
  let registry: Registry;
  let env: ProxiedMirror;
  let agent: Agent;
  let images: ImageFixture[];
  let baseline: Held;
  const rnd: Random = seededRandom(SEED);
  const results: Array<{ kind: Kind; got: Download; expected?: string }> = [];

  before(async () => {
    registry = await startRegistry();
    const sizes = (i: number): number[] => Array.from({ length: LAYERS }, (_, j) => 128 * KiB + ((i * 7 + j * 13) % 16) * 96 * KiB);
    images = [];
    for (let i = 0; i < IMAGES; i++) {
      images.push(await pushImage(registry.url, `abort/app${i}`, '1.0', makeImageSpec({ seed: `abort-${i}`, layerSizes: sizes(i), mediaTypeFamily: i % 2 ? 'docker' : 'oci' })));
    }
    env = await startProxiedMirror(registry.url, 'abort');
    // Fills take long enough to be joined and left mid-way.
    env.proxy.fault({ method: 'GET', path: /\/blobs\//, throttleBytesPerSec: 12 * MiB });
    agent = new Agent({ connections: CONCURRENCY * 2, keepAliveTimeout: 1_000 });
    baseline = await heldBy(env.mirror);
  });

  after(async () => {
    await agent?.close();
    await env?.close();
    await registry?.close();
  });

  const blobUrl = (img: ImageFixture, b: BlobRef): string => `${env.mirror.url}/v2/${img.repo}/blobs/${b.digest}`;
  /** Somewhere in the body, before it, or (1 in 10) never: complete downloads check the bytes. */
  const abortPoint = (size: number): number | undefined => (rnd.chance(0.1) ? undefined : rnd.int(0, Math.max(0, size - 1)));

  function record(kind: Kind, expected?: string): (got: Download) => Download {
    return (got) => {
      results.push({ kind, got, ...(expected ? { expected } : {}) });
      return got;
    };
  }

  /** One cold layer: a first client starts the fill, joiners arrive as its bytes come in, some with a Range. */
  function coldLayer(img: ImageFixture, layer: BlobRef): () => Promise<void> {
    const first = abortPoint(layer.size);
    const joiners = Array.from({ length: rnd.int(2, 6) }, () => {
      const ranged = rnd.chance(0.3);
      const start = ranged ? rnd.int(0, layer.size - 2) : 0;
      const end = ranged ? rnd.int(start, layer.size - 1) : layer.size - 1;
      return { arriveAt: rnd.int(0, layer.size - 1), ranged, start, end, abortAt: abortPoint(end - start + 1) };
    });
    return async () => {
      const path = new RegExp(`/blobs/${layer.digest}$`);
      const opener = download(blobUrl(img, layer), { dispatcher: agent, ...(first !== undefined ? { abortAt: first } : {}) }).then(record('cold', layer.digest));
      await Promise.all([
        opener,
        ...joiners.map(async (j) => {
          // Join once the fill has got this far, or when the first client is gone (a fill it never started).
          await Promise.race([env.proxy.waitForBytes('GET', path, j.arriveAt), opener]);
          const headers: Record<string, string> = j.ranged ? { range: `bytes=${j.start}-${j.end}` } : {};
          await download(blobUrl(img, layer), { dispatcher: agent, headers, ...(j.abortAt !== undefined ? { abortAt: j.abortAt } : {}) }).then(record(j.ranged ? 'range' : 'join', j.ranged ? undefined : layer.digest));
        }),
      ]);
    };
  }

  test('a slow client joined to a fill that commits, then aborted, releases everything', async () => {
    const img = images[0]!;
    const layer = img.layers[0]!;
    const slow = await agent.request({ origin: env.mirror.url, path: `/v2/${img.repo}/blobs/${layer.digest}`, method: 'GET' });
    assert.equal(slow.statusCode, 200);
    // The client reads nothing while the fill runs to its commit.
    await env.mirror.berth.fills.idle();
    slow.body.destroy();
    await assertFlat(env.mirror, baseline, { fdSlack: 16, rssGrowthBytes: 64 * MiB });
  });

  test('1,000 downloads aborted at random points', { timeout: 90_000 }, async (t) => {
    const started = Date.now();
    const cold: Array<() => Promise<void>> = [];
    for (const img of images) for (const layer of img.layers) if (layer !== images[0]!.layers[0]) cold.push(coldLayer(img, layer));
    // Manifests first (cold, then warm), interleaved with the cold fills.
    const manifestTask = (): (() => Promise<unknown>) => {
      const img = rnd.pick(images);
      const ref = rnd.chance(0.5) ? img.tag : img.digest;
      const abortAt = rnd.chance(0.1) ? undefined : rnd.int(0, img.size - 1);
      return () => download(`${env.mirror.url}/v2/${img.repo}/manifests/${ref}`, { dispatcher: agent, headers: { accept: ALL_ACCEPT }, ...(abortAt !== undefined ? { abortAt } : {}) }).then(record('manifest', img.digest));
    };
    const manifestTasks = Array.from({ length: MANIFESTS }, manifestTask);
    const firstWave = rnd.shuffle([...cold, ...manifestTasks.splice(0, MANIFESTS / 2)]);
    await pool(firstWave, CONCURRENCY / 4);
    await env.mirror.berth.fills.idle();

    const blobs = images.flatMap((img) => [...img.layers, img.config!].map((b) => ({ img, b })));
    const warm = Array.from({ length: WARM }, () => {
      const { img, b } = rnd.pick(blobs);
      const abortAt = abortPoint(b.size);
      return () => download(blobUrl(img, b), { dispatcher: agent, ...(abortAt !== undefined ? { abortAt } : {}) }).then(record('committed', b.digest));
    });
    const coldRanges = results.filter((r) => r.kind === 'range').length;
    const ranges = Array.from({ length: Math.max(0, RANGES - coldRanges) }, () => {
      const { img, b } = rnd.pick(blobs);
      const start = rnd.int(0, b.size - 1);
      const end = rnd.int(start, b.size - 1);
      const abortAt = abortPoint(end - start + 1);
      return () => download(blobUrl(img, b), { dispatcher: agent, headers: { range: `bytes=${start}-${end}` }, ...(abortAt !== undefined ? { abortAt } : {}) }).then(record('range'));
    });
    const secondWave = rnd.shuffle([...warm, ...ranges, ...manifestTasks]);
    // Top up to exactly TOTAL with committed-blob downloads (the cold wave's joiner count is random).
    const shortBy = TOTAL - results.length - secondWave.length;
    for (let i = 0; i < shortBy; i++) {
      const { img, b } = rnd.pick(blobs);
      const abortAt = abortPoint(b.size);
      secondWave.push(() => download(blobUrl(img, b), { dispatcher: agent, ...(abortAt !== undefined ? { abortAt } : {}) }).then(record('committed', b.digest)));
    }
    await pool(secondWave, CONCURRENCY);

    const byKind = (k: Kind): Download[] => results.filter((r) => r.kind === k).map((r) => r.got);
    const summary = Object.fromEntries((['cold', 'join', 'committed', 'range', 'manifest'] as const).map((k) => [k, byKind(k).length]));
    t.diagnostic(`downloads by kind: ${JSON.stringify(summary)}; aborted ${results.filter((r) => r.got.aborted).length}`);
    assert.ok(results.length >= TOTAL - 1, `${results.length} downloads ran: ${JSON.stringify(summary)}`);
    for (const k of ['cold', 'join', 'committed', 'range', 'manifest'] as const) assert.ok(byKind(k).length >= 50, `too few ${k} downloads: ${JSON.stringify(summary)}`);
    assert.ok(results.filter((r) => r.got.aborted).length >= TOTAL * 0.8, 'most downloads were aborted');
    for (const r of results) {
      assert.ok(r.got.status === 0 || r.got.status === 200 || r.got.status === 206, `${r.kind}: status ${r.got.status}`);
      if (r.got.complete && r.expected && r.got.status === 200) assert.equal(r.got.digest, r.expected, `${r.kind}: a complete 200 with the wrong bytes`);
      if (!r.got.aborted) assert.ok(r.got.complete, `${r.kind}: a download nobody aborted broke (${r.got.status}, ${r.got.bytes} bytes)`);
    }
    await agent.close();
    agent = new Agent();
    await assertFlat(env.mirror, baseline, { fdSlack: 16, rssGrowthBytes: 256 * MiB });
    assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  });
});
