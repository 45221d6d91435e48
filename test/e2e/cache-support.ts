/** Helpers for the size-cap tests: what is on disk, and pulls that must succeed. */
import assert from 'node:assert/strict';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageFixture } from '../support/images.js';
import { digestOfDir, skopeoCopy, type SkopeoCopyOptions } from '../support/skopeo.js';

export const MiB = 1024 * 1024;

export function blobFile(dataDir: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

export async function isStored(dataDir: string, digest: string): Promise<boolean> {
  return (await stat(blobFile(dataDir, digest)).catch(() => undefined)) !== undefined;
}

/** Bytes of committed content (blobs and manifests) under the data dir. */
export async function storedBytes(dataDir: string): Promise<number> {
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else total += (await stat(p).catch(() => undefined))?.size ?? 0;
    }
  };
  await walk(join(dataDir, 'blobs'));
  return total;
}

/** `skopeo copy` of an image through berth into a scratch dir, checked and removed. */
export async function pullOk(mirrorUrl: string, img: ImageFixture, scratch: string, opts: SkopeoCopyOptions = {}): Promise<void> {
  const host = mirrorUrl.replace('http://', '');
  const out = join(scratch, `pull-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  const r = await skopeoCopy(`docker://${host}/${img.ref}`, `dir:${out}`, opts);
  assert.equal(r.code, 0, `pull ${img.ref}: ${r.stderr}`);
  if (!opts.overrideArch) assert.equal(await digestOfDir(out), img.digest, `${img.ref} manifest digest`);
  await rm(out, { recursive: true, force: true });
}
