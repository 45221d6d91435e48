/**
 * Offline integrity check of a data directory: every committed file is re-hashed against the
 * digest it is named by. Corrupt files and files that are not content at all are moved aside
 * into `quarantine/` (never deleted, so an operator can look at them); the next pull fetches
 * the content again. Temp files are only counted: a running daemon may still be writing them,
 * and the daemon sweeps them at start.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseDigest, type Digest } from '../oci/digest.js';
import { DigestCheck, checkingSink, type DigestVerdict } from '../oci/digest-check.js';
import { blobPath, type Layout } from './paths.js';

export interface Finding {
  readonly kind: 'corrupt' | 'stray';
  /** Path relative to the data dir. */
  readonly path: string;
  readonly detail: string;
  /** Where it was moved, relative to the data dir; undefined if the move failed. */
  readonly quarantinedTo?: string;
}

export interface VerifyReport {
  readonly checked: number;
  readonly bytes: number;
  readonly findings: readonly Finding[];
  /** Temp files of fills in progress, or left by a crash. */
  readonly tempFiles: number;
}

async function checkFile(path: string, digest: Digest): Promise<DigestVerdict> {
  const check = new DigestCheck(digest);
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), checkingSink(check));
  return check.finish();
}

async function names(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

export async function verifyStore(layout: Layout, onFinding: (f: Finding) => void = () => undefined): Promise<VerifyReport> {
  const quarantine = join(layout.root, 'quarantine');
  const findings: Finding[] = [];
  let checked = 0;
  let bytes = 0;

  const moveAside = async (kind: Finding['kind'], rel: string, detail: string): Promise<void> => {
    const to = join('quarantine', `${rel.replaceAll('/', '-')}-${randomBytes(4).toString('hex')}`);
    let quarantinedTo: string | undefined;
    try {
      await mkdir(quarantine, { recursive: true });
      await rename(join(layout.root, rel), join(layout.root, to));
      quarantinedTo = to;
    } catch {
      // Left in place (read-only disk); still reported, and the exit status says so.
    }
    const f: Finding = quarantinedTo !== undefined ? { kind, path: rel, detail, quarantinedTo } : { kind, path: rel, detail };
    findings.push(f);
    onFinding(f);
  };

  for (const algorithm of await names(layout.blobs)) {
    for (const prefix of await names(join(layout.blobs, algorithm))) {
      const dir = join(layout.blobs, algorithm, prefix);
      const s = await stat(dir).catch(() => undefined);
      if (!s?.isDirectory()) {
        await moveAside('stray', join('blobs', algorithm, prefix), 'not part of the blob layout');
        continue;
      }
      for (const hex of await names(dir)) {
        const rel = join('blobs', algorithm, prefix, hex);
        const digest = parseDigest(`${algorithm}:${hex}`);
        if (!digest || blobPath(layout, digest) !== join(dir, hex)) {
          await moveAside('stray', rel, 'name is not a digest in its place');
          continue;
        }
        const size = (await stat(join(dir, hex)).catch(() => undefined))?.size;
        const verdict = await checkFile(join(dir, hex), digest).catch((): DigestVerdict => ({ ok: false, actual: 'unreadable' }));
        checked++;
        bytes += size ?? 0;
        if (!verdict.ok) await moveAside('corrupt', rel, `${size ?? '?'} bytes hash to ${verdict.actual}`);
      }
    }
  }
  const tempFiles = (await names(layout.tmp)).length;
  return { checked, bytes, findings, tempFiles };
}
