/**
 * The shared stage: the upstream registry seeded with the large and the small image, and one
 * counting proxy in front of it per mirror (plus one for the direct baseline when capped).
 */
import type { BlobContent } from '../test/support/blobgen.js';
import { makeImageSpec, pushImage, type ImageFixture, type ImageSpec } from '../test/support/images.js';
import { startFaultProxy, type FaultProxy } from '../test/support/proxy.js';
import type { Cleanup } from './cleanup.js';
import { startDistribution, type RegistryDaemon } from './distribution.js';
import type { BenchOptions } from './options.js';
import type { PullTarget } from './pull.js';

export interface Stage {
  upstream: RegistryDaemon;
  big: ImageFixture;
  /** The large image's generator (its layers' bytes can be produced again). */
  bigSpec: ImageSpec;
  small: ImageFixture;
  /** The counting proxy berth uses as its upstream. */
  berthProxy: FaultProxy;
  /** The counting proxy distribution's `proxy.remoteurl` points at. */
  distProxy: FaultProxy;
  /** Where the direct baseline pulls from: the registry itself, or a capped proxy to it. */
  directUrl: string;
  seedSeconds: number;
}

async function proxy(cleanup: Cleanup, target: string, bytesPerSec: number | undefined, name: string): Promise<FaultProxy> {
  const p = await startFaultProxy(target, { bytesPerSec });
  cleanup.add({ name, close: () => p.close() });
  return p;
}

export async function buildStage(cleanup: Cleanup, opts: BenchOptions): Promise<Stage> {
  const upstream = await startDistribution(cleanup);
  const started = performance.now();
  const bigSpec = makeImageSpec({ seed: 'bench-big', layerSizes: opts.layerSizes, mediaTypeFamily: 'docker' });
  const big = await pushImage(upstream.url, 'bench/big', '1.0', bigSpec);
  const small = await pushImage(upstream.url, 'bench/small', '1.0', makeImageSpec({ seed: 'bench-small', layerSizes: [4096, 2048], mediaTypeFamily: 'docker' }));
  const seedSeconds = (performance.now() - started) / 1000;
  const cap = opts.upstreamBytesPerSec;
  const berthProxy = await proxy(cleanup, upstream.url, cap, 'counting proxy for berth');
  const distProxy = await proxy(cleanup, upstream.url, cap, 'counting proxy for distribution');
  // Capped: the baseline must see the same bandwidth, so it goes through a capped proxy too.
  const directUrl = cap === undefined ? upstream.url : (await proxy(cleanup, upstream.url, cap, 'capped proxy for direct pulls')).url;
  return { upstream, big, bigSpec, small, berthProxy, distProxy, directUrl, seedSeconds };
}

export const pullTarget = (baseUrl: string, f: ImageFixture): PullTarget => ({ baseUrl, repo: f.repo, tag: f.tag, manifestDigest: f.digest });

/** The image's biggest layer. */
export function biggestLayer(spec: ImageSpec): BlobContent {
  const first = spec.layers[0];
  if (!first) throw new Error('image has no layers');
  return spec.layers.reduce((a, b) => (b.size > a.size ? b : a), first);
}
