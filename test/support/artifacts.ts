/**
 * OCI 1.1 artifacts for tests: manifests with `artifactType` and `subject` (signatures, SBOMs),
 * Helm-chart-like manifests, the referrers tag-schema index, and pushing them.
 */
import { bytesBlob, sha256Digest, type BlobContent } from './blobgen.js';
import { MediaTypes, type ManifestBytes } from './image-spec.js';
import { pushBlob, pushManifest } from './push.js';
import { RegistryClient } from './registry-client.js';

export const EMPTY_CONFIG_TYPE = 'application/vnd.oci.empty.v1+json';

/** The OCI 1.1 empty descriptor's blob: `{}`. */
export const emptyConfig = (): BlobContent => bytesBlob(Buffer.from('{}'), EMPTY_CONFIG_TYPE);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface ArtifactSpec {
  manifest: ManifestBytes;
  /** Config first, then layers. */
  blobs: BlobContent[];
  artifactType: string;
}

export interface ArtifactInput {
  /** `artifactType` field; when absent the config's media type is the artifact type. */
  artifactType?: string;
  config?: BlobContent;
  layers: BlobContent[];
  subject?: ManifestBytes;
  annotations?: Record<string, string>;
}

function bytesOf(obj: object, mediaType: string): ManifestBytes {
  const bytes = Buffer.from(JSON.stringify(obj, null, 2));
  return { bytes, digest: sha256Digest(bytes), mediaType, size: bytes.length };
}

const desc = (b: { mediaType: string; digest: string; size: number }): Descriptor => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });

/** An OCI image manifest carrying an artifact (any config and layer media types). */
export function makeArtifact(input: ArtifactInput): ArtifactSpec {
  const config = input.config ?? emptyConfig();
  const obj = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    ...(input.artifactType !== undefined ? { artifactType: input.artifactType } : {}),
    config: desc(config),
    layers: input.layers.map(desc),
    ...(input.subject ? { subject: desc(input.subject) } : {}),
    ...(input.annotations ? { annotations: input.annotations } : {}),
  };
  return { manifest: bytesOf(obj, MediaTypes.ociManifest), blobs: [config, ...input.layers], artifactType: input.artifactType ?? config.mediaType };
}

/** The descriptor of an artifact as a referrers list names it. */
export function referrerDescriptor(a: ArtifactSpec, annotations?: Record<string, string>): Descriptor {
  return { ...desc(a.manifest), artifactType: a.artifactType, ...(annotations ? { annotations } : {}) };
}

/** An OCI index over `manifests` (the referrers tag-schema index, or any hand-built index). */
export function makeIndex(manifests: Descriptor[]): ManifestBytes {
  return bytesOf({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }, MediaTypes.ociIndex);
}

/** `sha256-<hex>`: where a registry without the referrers API keeps a subject's referrers. */
export const fallbackTagOf = (subjectDigest: string): string => subjectDigest.replace(':', '-');

/** Pushes an artifact's blobs, then its manifest under `ref` (a tag, or its own digest). */
export async function pushArtifact(registryUrl: string, repo: string, a: ArtifactSpec, ref = a.manifest.digest): Promise<void> {
  const client = new RegistryClient(registryUrl);
  for (const b of a.blobs) await pushBlob(client, repo, b);
  await pushManifest(client, repo, ref, a.manifest);
}

/** Pushes manifest bytes (an index whose children are already there) under `ref`. */
export async function pushManifestBytes(registryUrl: string, repo: string, ref: string, m: ManifestBytes): Promise<void> {
  await pushManifest(new RegistryClient(registryUrl), repo, ref, m);
}
