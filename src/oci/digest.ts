/** Digests: parsing, validation and hashing. A digest value never becomes a path unless valid. */
import { createHash } from 'node:crypto';

export type Algorithm = 'sha256' | 'sha512';

export interface Digest {
  readonly algorithm: Algorithm;
  readonly hex: string;
  /** `algorithm:hex` */
  readonly value: string;
}

const HEX_LENGTH: Readonly<Record<Algorithm, number>> = { sha256: 64, sha512: 128 };
const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/;

export function parseDigest(input: string): Digest | undefined {
  const m = DIGEST_RE.exec(input);
  if (!m) return undefined;
  const algorithm = m[1] as Algorithm;
  const hex = m[2]!;
  if (hex.length !== HEX_LENGTH[algorithm]) return undefined;
  return { algorithm, hex, value: input };
}

export function looksLikeDigest(reference: string): boolean {
  return reference.includes(':');
}

/** The digest of bytes in memory (manifests, indexes); streams go through DigestCheck. */
export function digestOf(bytes: Uint8Array, algorithm: Algorithm = 'sha256'): Digest {
  const hex = createHash(algorithm).update(bytes).digest('hex');
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}
