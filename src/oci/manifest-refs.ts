/**
 * What a manifest points at: child manifests (an index or manifest list) and blobs
 * (config and layers of an image; `blobs` of an artifact). Pure: parses bytes, no I/O.
 */
import { parseDigest, type Digest } from './digest.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Partial<Platform>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ManifestRefs {
  /** Entries of an index / manifest list. */
  readonly children: readonly Descriptor[];
  /** Config first, then layers. */
  readonly blobs: readonly Descriptor[];
}

const NONE: ManifestRefs = { children: [], blobs: [] };

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function descriptor(v: unknown): Descriptor | undefined {
  const o = asRecord(v);
  if (!o || typeof o.digest !== 'string') return undefined;
  const digest = parseDigest(o.digest);
  if (!digest) return undefined;
  const size = typeof o.size === 'number' && Number.isSafeInteger(o.size) && o.size >= 0 ? o.size : -1;
  const mediaType = typeof o.mediaType === 'string' ? o.mediaType : '';
  const p = asRecord(o.platform);
  const platform =
    p && typeof p.os === 'string' && typeof p.architecture === 'string'
      ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) }
      : undefined;
  const a = asRecord(o.annotations);
  const annotations = a ? Object.fromEntries(Object.entries(a).filter((e): e is [string, string] => typeof e[1] === 'string')) : undefined;
  return { mediaType, digest, size, ...(platform ? { platform } : {}), ...(annotations ? { annotations } : {}) };
}

function descriptors(v: unknown): Descriptor[] {
  if (!Array.isArray(v)) return [];
  return v.map(descriptor).filter((d): d is Descriptor => d !== undefined);
}

/** Never throws: bytes that are not a manifest point at nothing. */
export function manifestRefs(bytes: Uint8Array): ManifestRefs {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return NONE;
  }
  const o = asRecord(doc);
  if (!o) return NONE;
  const children = descriptors(o.manifests);
  const config = descriptor(o.config);
  const blobs = [...(config ? [config] : []), ...descriptors(o.layers), ...descriptors(o.blobs)];
  return { children, blobs };
}
