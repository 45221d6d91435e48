import { bytesBlob, seededBlob, sha256Digest, type BlobContent } from './blobgen.js';

export type MediaTypeFamily = 'docker' | 'oci';

export const MediaTypes = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** Every manifest media type; use as an Accept list. */
export const ALL_MANIFEST_TYPES: readonly string[] = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerList,
  MediaTypes.dockerManifest,
];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ManifestBytes {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  size: number;
}

export interface ImageSpec {
  kind: 'image';
  family: MediaTypeFamily;
  platform: Platform;
  config: BlobContent;
  layers: BlobContent[];
  manifest: ManifestBytes;
}

export interface IndexSpec {
  kind: 'index';
  family: MediaTypeFamily;
  children: ImageSpec[];
  manifest: ManifestBytes;
}

export type Spec = ImageSpec | IndexSpec;

export interface ImageSpecInput {
  /** Anything stable; equal inputs give byte-identical images. */
  seed: string | number;
  /** One layer per entry, in bytes. */
  layerSizes: number[];
  mediaTypeFamily: MediaTypeFamily;
  platform?: Platform;
}

const CREATED = '2024-01-01T00:00:00Z';

function manifestBytes(obj: object, mediaType: string): ManifestBytes {
  const bytes = Buffer.from(JSON.stringify(obj, null, 2));
  return { bytes, digest: sha256Digest(bytes), mediaType, size: bytes.length };
}

function descriptor(b: { mediaType: string; digest: string; size: number }): object {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size };
}

/**
 * A deterministic single-platform image. Layers are seeded random bytes behind a tar-like
 * header, declared uncompressed (diff_id = digest). Computing the layer digests streams
 * each layer once (about 1 s per 500 MiB); results are memoised per (seed, size).
 */
export function makeImageSpec(input: ImageSpecInput): ImageSpec {
  const seed = String(input.seed);
  const docker = input.mediaTypeFamily === 'docker';
  const platform = input.platform ?? { os: 'linux', architecture: 'amd64' };
  const layerType = docker ? MediaTypes.dockerLayer : MediaTypes.ociLayer;
  const layers = input.layerSizes.map((size, i) => seededBlob(`${seed}/layer/${i}`, size, layerType));
  const configObj = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    created: CREATED,
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['/bin/sh'],
      Labels: { 'org.berth.test.seed': seed },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    history: layers.map((_, i) => ({ created: CREATED, created_by: `berth test layer ${i}` })),
  };
  const config = bytesBlob(
    Buffer.from(JSON.stringify(configObj)),
    docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig,
  );
  const mediaType = docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest;
  const manifest = manifestBytes(
    { schemaVersion: 2, mediaType, config: descriptor(config), layers: layers.map(descriptor) },
    mediaType,
  );
  return { kind: 'image', family: input.mediaTypeFamily, platform, config, layers, manifest };
}

export interface IndexSpecInput {
  seed: string | number;
  mediaTypeFamily: MediaTypeFamily;
  platforms: Array<{ platform: Platform; layerSizes: number[] }>;
}

/** A multi-platform index (OCI) or manifest list (Docker); each child has distinct layers. */
export function makeIndexSpec(input: IndexSpecInput): IndexSpec {
  const seed = String(input.seed);
  const children = input.platforms.map((p) =>
    makeImageSpec({
      seed: `${seed}/${p.platform.os}/${p.platform.architecture}/${p.platform.variant ?? ''}`,
      layerSizes: p.layerSizes,
      mediaTypeFamily: input.mediaTypeFamily,
      platform: p.platform,
    }),
  );
  const mediaType = input.mediaTypeFamily === 'docker' ? MediaTypes.dockerList : MediaTypes.ociIndex;
  const manifests = children.map((c) => ({
    ...descriptor(c.manifest),
    platform: {
      architecture: c.platform.architecture,
      os: c.platform.os,
      ...(c.platform.variant !== undefined ? { variant: c.platform.variant } : {}),
    },
  }));
  const manifest = manifestBytes({ schemaVersion: 2, mediaType, manifests }, mediaType);
  return { kind: 'index', family: input.mediaTypeFamily, children, manifest };
}

/** All blobs (config + layers) of a spec, children included, without duplicates. */
export function specBlobs(spec: Spec): BlobContent[] {
  const all = spec.kind === 'image' ? [spec.config, ...spec.layers] : spec.children.flatMap((c) => [c.config, ...c.layers]);
  const seen = new Set<string>();
  return all.filter((b) => (seen.has(b.digest) ? false : (seen.add(b.digest), true)));
}
