/**
 * Keeps a TLS server's certificate current: reads the PEM files, checks that key and certificate
 * belong together, and swaps the server's secure context. Connections already open keep their
 * session; new handshakes get the new certificate. Triggered by SIGHUP (reload()) and, with
 * `watch`, by a change of either file (util/watch-files.ts).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { watchFiles } from '../util/watch-files.js';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface CertificateInfo {
  readonly fingerprint256: string;
  readonly notAfter: Date;
}

export type TlsRead = { readonly ok: true; readonly material: TlsMaterial; readonly info: CertificateInfo } | { readonly ok: false; readonly error: string };

export type ReloadOutcome =
  | { readonly kind: 'reloaded'; readonly info: CertificateInfo }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'failed'; readonly error: string };

export interface TlsFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message.split('\n')[0] ?? err.name : 'invalid';
}

/** Reads and validates the pair; a mismatched key or unparsable PEM is an error value. */
export async function readTlsMaterial(files: TlsFiles): Promise<TlsRead> {
  try {
    const [cert, key] = await Promise.all([readFile(files.certPath), readFile(files.keyPath)]);
    createSecureContext({ cert, key });
    const x509 = new X509Certificate(cert);
    return { ok: true, material: { cert, key }, info: { fingerprint256: x509.fingerprint256, notAfter: new Date(x509.validTo) } };
  } catch (err) {
    return { ok: false, error: reason(err) };
  }
}

export interface ReloaderDeps {
  readonly files: TlsFiles;
  /** Installs new material on the server (server.setSecureContext). */
  readonly apply: (material: TlsMaterial) => void;
  readonly onOutcome: (outcome: ReloadOutcome, trigger: 'signal' | 'file-change') => void;
  /** Poll interval of the file watch; 0 = no watching. */
  readonly watchIntervalMs: number;
}

export class TlsReloader {
  private applied: string;
  private queue: Promise<unknown> = Promise.resolve();
  private unwatch?: () => void;

  constructor(private readonly deps: ReloaderDeps, initial: TlsMaterial) {
    this.applied = TlsReloader.hash(initial);
  }

  start(): void {
    if (this.deps.watchIntervalMs <= 0 || this.unwatch) return;
    const files = [this.deps.files.certPath, this.deps.files.keyPath];
    this.unwatch = watchFiles(files, this.deps.watchIntervalMs, () => void this.reload('file-change'));
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** One reload at a time; a half-written pair fails and the next change retries. */
  reload(trigger: 'signal' | 'file-change'): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.reloadNow());
    this.queue = next.catch(() => undefined);
    return next.then((outcome) => {
      this.deps.onOutcome(outcome, trigger);
      return outcome;
    });
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    const read = await readTlsMaterial(this.deps.files);
    if (!read.ok) return { kind: 'failed', error: read.error };
    const hash = TlsReloader.hash(read.material);
    if (hash === this.applied) return { kind: 'unchanged' };
    try {
      this.deps.apply(read.material);
    } catch (err) {
      return { kind: 'failed', error: reason(err) };
    }
    this.applied = hash;
    return { kind: 'reloaded', info: read.info };
  }

  private static hash(m: TlsMaterial): string {
    return createHash('sha256').update(m.cert).update('\0').update(m.key).digest('hex');
  }
}
