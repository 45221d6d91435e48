/**
 * Store housekeeping that is safe next to a running daemon: temp files old enough that no fill
 * can still be writing them, and media-type records whose content is gone.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDigest, type Digest } from '../oci/digest.js';
import { blobPath, type Layout } from './paths.js';

export interface SweepResult {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Removes temp files not written to for `minAgeMs`. A running fill writes its temp file
 * continuously (an upstream that stalls longer than its idle timeout fails the fill), so an
 * old modification time means the fill is over.
 */
export async function sweepOldTemp(layout: Layout, minAgeMs: number, now: number): Promise<SweepResult> {
  let files = 0;
  let bytes = 0;
  for (const name of await readdir(layout.tmp).catch(() => [] as string[])) {
    const path = join(layout.tmp, name);
    const s = await stat(path).catch(() => undefined);
    if (!s || now - s.mtimeMs < minAgeMs) continue;
    await rm(path, { force: true, recursive: true });
    files++;
    bytes += s.size;
  }
  return { files, bytes };
}

/** Every media-type record: its digest and whether the content it describes is still stored. */
export async function* metaRecords(layout: Layout): AsyncGenerator<{ readonly digest: Digest; readonly path: string; readonly present: boolean }> {
  for (const algorithm of await readdir(layout.meta).catch(() => [] as string[])) {
    for (const prefix of await readdir(join(layout.meta, algorithm)).catch(() => [] as string[])) {
      const dir = join(layout.meta, algorithm, prefix);
      for (const hex of await readdir(dir).catch(() => [] as string[])) {
        const d = parseDigest(`${algorithm}:${hex}`);
        if (!d) continue;
        const present = (await stat(blobPath(layout, d)).catch(() => undefined)) !== undefined;
        yield { digest: d, path: join(dir, hex), present };
      }
    }
  }
}

/** Removes media-type records of content that is gone; returns how many. */
export async function removeOrphanMeta(layout: Layout): Promise<number> {
  let n = 0;
  for await (const m of metaRecords(layout)) {
    if (m.present) continue;
    await rm(m.path, { force: true });
    n++;
  }
  return n;
}
