/**
 * The one streaming check of content against its digest, and its size when known: bytes are
 * hashed and counted as they pass, and judged once, at the end. Spool files, pass-through
 * bodies, offline re-hashing and CLI downloads all verify through it.
 */
import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Digest } from './digest.js';

export interface DigestVerdict {
  /** The bytes hash to the expected digest and, when one was given, have the expected size. */
  readonly ok: boolean;
  /** `algorithm:hex` of the bytes that passed. */
  readonly actual: string;
}

export class DigestCheck {
  private readonly hash: Hash;
  private seen = 0;

  constructor(
    readonly expected: Digest,
    readonly expectedSize?: number,
  ) {
    this.hash = createHash(expected.algorithm);
  }

  get bytes(): number {
    return this.seen;
  }

  /** More bytes passed than the expected size: the content is wrong before its end. */
  get overrun(): boolean {
    return this.expectedSize !== undefined && this.seen > this.expectedSize;
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.seen += chunk.length;
  }

  /** Call once, when all bytes are in. */
  finish(): DigestVerdict {
    const actual = `${this.expected.algorithm}:${this.hash.digest('hex')}`;
    return { ok: actual === this.expected.value && (this.expectedSize === undefined || this.expectedSize === this.seen), actual };
  }
}

/** The end of a pipeline that only verifies: feeds each chunk to `check` and reports its length. */
export function checkingSink(check: DigestCheck, onBytes?: (n: number) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      check.update(chunk);
      onBytes?.(chunk.length);
      cb();
    },
  });
}
