/** Seeded generator of malformed registry requests, and a raw-socket client to send them. */
import { connect } from 'node:net';

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzRequest {
  readonly method: string;
  /** Raw request-target bytes (may hold bytes undici would refuse to send). */
  readonly target: Buffer;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Only safe bytes: can go through undici. */
  readonly clean: boolean;
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const HEX = '0123456789abcdef';
const hex = (r: () => number, n: number): string => Array.from({ length: n }, () => pick(r, [...HEX])).join('');

export class Fuzzer {
  private readonly r: () => number;

  constructor(
    seed: number,
    /** Digests and names that exist, so that some requests get past parsing. */
    private readonly known: { readonly names: readonly string[]; readonly digests: readonly string[]; readonly tags: readonly string[] },
  ) {
    this.r = prng(seed);
  }

  next(): FuzzRequest {
    const r = this.r;
    let clean = r() < 0.6;
    const method = clean ? pick(r, ['GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) : pick(r, ['GET', 'HEAD', 'G3T', 'get', 'BREW', 'PUT', 'TRACE', 'CONNECT', 'DELETE', '']);
    let target: Buffer = Buffer.from(this.path(), 'latin1');
    if (!clean && r() < 0.5) target = this.mangle(target);
    if (target.some((b) => b <= 0x20 || b >= 0x7f)) clean = false;
    const headers: Array<[string, string]> = [];
    const n = Math.floor(r() * 4);
    for (let i = 0; i < n; i++) headers.push(this.header(clean));
    return { method, target, headers, clean };
  }

  private segment(): string {
    const r = this.r;
    return pick(r, [
      pick(r, this.known.names),
      pick(r, this.known.names),
      '..',
      '.',
      '%2e%2e',
      '%2E%2E%2F%2E%2E',
      '..%2f..%2f..%2foutside',
      '%00',
      '%ff%fe',
      '%c0%af',
      '%e2%80%ae',
      'ü',
      '',
      'UPPER/Case',
      'a'.repeat(Math.floor(r() * 300)),
      `x${hex(r, 4)}`,
      'ghcr.io/org/app',
      'evil.example.com/x',
      'library/../../../etc',
      encodeURIComponent(String.fromCharCode(Math.floor(r() * 256))),
    ]);
  }

  private reference(): string {
    const r = this.r;
    return pick(r, [
      pick(r, this.known.tags),
      pick(r, this.known.tags),
      pick(r, this.known.digests),
      pick(r, this.known.digests),
      `sha256:${hex(r, 64)}`,
      `sha256:${hex(r, Math.floor(r() * 70))}`,
      `sha512:${hex(r, 128)}`,
      'sha256:../../../outside',
      `md5:${hex(r, 32)}`,
      '-bad',
      't'.repeat(129),
      'latest',
      '%2e%2e',
      '..',
    ]);
  }

  private path(): string {
    const r = this.r;
    // A share of well-formed requests, so that ranges and Accept headers reach real content.
    if (r() < 0.3) {
      const kind = pick(r, ['blobs', 'blobs', 'manifests']);
      const ref = kind === 'blobs' ? pick(r, this.known.digests) : pick(r, [...this.known.tags, ...this.known.digests]);
      return `/v2/${pick(r, this.known.names)}/${kind}/${ref}`;
    }
    const tail = pick(r, ['manifests/', 'blobs/', 'tags/list', 'referrers/', 'blobs/uploads/', 'blobs/uploads/x', '']);
    const ref = tail.endsWith('/') && !tail.startsWith('blobs/uploads') ? this.reference() : '';
    const base = pick(r, ['/v2/', '/v2/', '/v2/', '/v2', '/', '//v2/', '/v2//', '/healthz', '/metrics', '/readyz', '/v1/']);
    let p = base.startsWith('/v2/') ? `${base}${this.segment()}/${tail}${ref}` : base;
    if (r() < 0.3) {
      p += pick(r, ['?ns=', '?ns=docker.io', '?ns=EVIL', '?ns=..', '?n=abc', '?n=999999999', '?last=%ff', '?artifactType=%00', '?', '?ns=ghcr.io&ns=x']);
      if (p.endsWith('=')) p += this.segment();
    }
    return p;
  }

  private mangle(b: Buffer): Buffer {
    const r = this.r;
    const out = Buffer.from(b);
    const flips = 1 + Math.floor(r() * 3);
    for (let i = 0; i < flips && out.length > 1; i++) out[1 + Math.floor(r() * (out.length - 1))] = Math.floor(r() * 256);
    return out;
  }

  private header(clean: boolean): [string, string] {
    const r = this.r;
    const h = pick(r, ['range', 'range', 'accept', 'accept', 'x-request-id', 'if-none-match', 'authorization', 'content-length', 'x-junk']);
    const value =
      h === 'range'
        ? pick(r, ['bytes=0-10', 'bytes=-5', 'bytes=10-', 'bytes=abc', 'bytes=5-1', 'bytes=0-1,3-4', 'bytes=99999999999999999-', 'items=1-2', 'bytes=', 'bytes=-0', `bytes=${Math.floor(r() * 1e6)}-${Math.floor(r() * 1e6)}`])
        : h === 'accept'
          ? pick(r, ['*/*', 'application/vnd.oci.image.index.v1+json;q=0', 'garbage', ',,,', 'a/b, c/d; q=x', 'application/json'.repeat(50), 'text/html'])
          : h === 'content-length'
            ? pick(r, ['0', '0'])
            : h === 'authorization'
              ? pick(r, ['Bearer x', 'Basic !!!', 'Bearer ' + hex(r, 40)])
              : hex(r, Math.floor(r() * 80));
    if (!clean && r() < 0.3) return [h, value + pick(r, ['\u00ff', '\u0080', 'é'])];
    return [h, value];
  }
}

/** Sends one request over a fresh socket; resolves with the status, or 0 when none came. */
export function sendRaw(port: number, req: FuzzRequest, timeoutMs: number): Promise<number> {
  const head = Buffer.concat([
    Buffer.from(`${req.method} `, 'latin1'),
    req.target,
    Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, 'latin1'),
    ...req.headers.map(([k, v]) => Buffer.from(`${k}: ${v}\r\n`, 'latin1')),
    Buffer.from('\r\n', 'latin1'),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let first = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(head.toString('latin1').slice(0, 300))}`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      if (first.length < 16) first += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(first);
      resolve(m ? Number(m[1]) : 0);
    });
    socket.write(head);
  });
}
