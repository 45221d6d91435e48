import type { BlobContent } from './blobgen.js';
import { makeImageSpec, makeIndexSpec, type ImageSpec, type Platform, type Spec } from './image-spec.js';
import { pushBlob, pushManifest } from './push.js';
import { RegistryClient, type Credentials } from './registry-client.js';

export { makeImageSpec, makeIndexSpec, MediaTypes, ALL_MANIFEST_TYPES } from './image-spec.js';
export type { ImageSpec, IndexSpec, Spec, MediaTypeFamily, Platform } from './image-spec.js';

export interface BlobRef {
  digest: string;
  size: number;
  mediaType: string;
}

export interface ManifestFixture {
  digest: string;
  mediaType: string;
  /** Length of the manifest bytes. */
  size: number;
  manifest: Buffer;
  /** Config first, then layers (for an index: every child's blobs). */
  blobs: BlobRef[];
}

export interface ChildFixture extends ManifestFixture {
  platform: Platform;
  config: BlobRef;
  layers: BlobRef[];
}

export interface ImageFixture extends ManifestFixture {
  kind: 'image' | 'index';
  repo: string;
  tag: string;
  /** `repo:tag` */
  ref: string;
  /** The image's config; undefined for an index. */
  config: BlobRef | undefined;
  /** The image's layers; for an index, every child's layers. */
  layers: BlobRef[];
  /** Child manifests of an index / manifest list; empty for a single image. */
  children: ChildFixture[];
}

export interface Fixtures {
  dockerV2: ImageFixture;
  oci: ImageFixture;
  ociIndex: ImageFixture;
  dockerList: ImageFixture;
  big: ImageFixture;
  alpine: ImageFixture;
  all: ImageFixture[];
}

const ref = (b: BlobContent): BlobRef => ({ digest: b.digest, size: b.size, mediaType: b.mediaType });

function child(s: ImageSpec): ChildFixture {
  const blobs = [ref(s.config), ...s.layers.map(ref)];
  const m = s.manifest;
  return { digest: m.digest, mediaType: m.mediaType, size: m.size, manifest: m.bytes, blobs, platform: s.platform, config: ref(s.config), layers: s.layers.map(ref) };
}

/** Describes what pushing `spec` as repo:tag produces, without pushing. */
export function specToFixture(repo: string, tag: string, spec: Spec): ImageFixture {
  const children = spec.kind === 'index' ? spec.children.map(child) : [];
  const self = spec.kind === 'image' ? child(spec) : undefined;
  const blobs = self ? self.blobs : children.flatMap((c) => c.blobs);
  const layers = self ? self.layers : children.flatMap((c) => c.layers);
  const m = spec.manifest;
  const base = { kind: spec.kind, repo, tag, ref: `${repo}:${tag}`, digest: m.digest, mediaType: m.mediaType, size: m.size };
  return { ...base, manifest: m.bytes, config: self?.config, layers, blobs, children };
}

/**
 * Pushes an image or index through the registry API: blobs, then (for an index) each child
 * manifest by digest, then the top manifest by tag. `auth` answers Basic or Bearer challenges.
 */
export async function pushImage(
  registryUrl: string,
  repo: string,
  tag: string,
  spec: Spec,
  auth?: Credentials,
): Promise<ImageFixture> {
  const client = new RegistryClient(registryUrl, auth);
  const images = spec.kind === 'index' ? spec.children : [spec];
  for (const img of images) {
    for (const blob of [img.config, ...img.layers]) await pushBlob(client, repo, blob);
    if (spec.kind === 'index') await pushManifest(client, repo, img.manifest.digest, img.manifest);
  }
  await pushManifest(client, repo, tag, spec.manifest);
  return specToFixture(repo, tag, spec);
}

const KiB = 1024;
const MiB = 1024 * KiB;
const amd64: Platform = { os: 'linux', architecture: 'amd64' };
const arm64: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };

export interface SeedOptions {
  /** Layer sizes of test/big:1.0 (default two of 52 MiB, >= 100 MiB in total). */
  bigLayerSizes?: number[];
}

/** The specs seedAll pushes, keyed like Fixtures. Deterministic: same digests every run. */
export function fixtureSpecs(opts: SeedOptions = {}): Record<Exclude<keyof Fixtures, 'all'>, { repo: string; tag: string; spec: Spec }> {
  return {
    dockerV2: { repo: 'test/docker-v2', tag: '1.0', spec: makeImageSpec({ seed: 'docker-v2', layerSizes: [3 * KiB, 40 * KiB], mediaTypeFamily: 'docker' }) },
    oci: { repo: 'test/oci', tag: '1.0', spec: makeImageSpec({ seed: 'oci', layerSizes: [5 * KiB, 70 * KiB], mediaTypeFamily: 'oci' }) },
    ociIndex: {
      repo: 'test/oci-index',
      tag: '1.0',
      spec: makeIndexSpec({ seed: 'oci-index', mediaTypeFamily: 'oci', platforms: [{ platform: amd64, layerSizes: [4 * KiB, 20 * KiB] }, { platform: arm64, layerSizes: [6 * KiB, 24 * KiB] }] }),
    },
    dockerList: {
      repo: 'test/docker-list',
      tag: '1.0',
      spec: makeIndexSpec({ seed: 'docker-list', mediaTypeFamily: 'docker', platforms: [{ platform: amd64, layerSizes: [4 * KiB, 30 * KiB] }, { platform: arm64, layerSizes: [7 * KiB, 33 * KiB] }] }),
    },
    big: { repo: 'test/big', tag: '1.0', spec: makeImageSpec({ seed: 'big', layerSizes: opts.bigLayerSizes ?? [52 * MiB, 52 * MiB], mediaTypeFamily: 'docker' }) },
    alpine: { repo: 'library/alpine', tag: '3.19', spec: makeImageSpec({ seed: 'alpine-3.19', layerSizes: [3 * KiB], mediaTypeFamily: 'docker' }) },
  };
}

/** Pushes every fixture image to the registry. */
export async function seedAll(registryUrl: string, auth?: Credentials, opts: SeedOptions = {}): Promise<Fixtures> {
  const specs = fixtureSpecs(opts);
  const push = (k: keyof typeof specs): Promise<ImageFixture> => pushImage(registryUrl, specs[k].repo, specs[k].tag, specs[k].spec, auth);
  const dockerV2 = await push('dockerV2');
  const oci = await push('oci');
  const ociIndex = await push('ociIndex');
  const dockerList = await push('dockerList');
  const big = await push('big');
  const alpine = await push('alpine');
  return { dockerV2, oci, ociIndex, dockerList, big, alpine, all: [dockerV2, oci, ociIndex, dockerList, big, alpine] };
}
