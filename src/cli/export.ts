/**
 * `berth export IMAGE… -o bundle.tar`: cached images as an OCI image layout in a tar, read from
 * the store offline (no upstream), blob by blob as streams. The bundle is written under a
 * temporary name and renamed when complete. Safe next to a running daemon: nothing is changed.
 * Exit 0: written; 1: an image is not (completely) cached; 2: bad usage.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import tar from 'tar-stream';
import { parseDigest } from '../oci/digest.js';
import { IMAGE_NAME, INDEX_FILE, OCI_LAYOUT_FILE, OCI_LAYOUT_VERSION, REF_NAME, blobEntryName } from '../oci/image-layout.js';
import { OCI_INDEX } from '../oci/media-types.js';
import { FsBlobStore } from '../store/fs-blob-store.js';
import { ManifestStore } from '../store/manifest-store.js';
import { FileTagIndex } from '../store/tag-index.js';
import { planBundle, type BundleImage } from './bundle-plan.js';
import { cliConfig, existingDataDir, type DataFlags, withDataDirOptions } from './cli-config.js';
import { formatBytes } from '../util/format-bytes.js';

interface ExportFlags extends DataFlags {
  output?: string;
  withReferrers?: boolean;
}

const MTIME = new Date(0);

/** index.json: one entry per image; the tag as ref.name unless two images share it. */
export function layoutIndex(images: readonly BundleImage[]): Buffer {
  const tagCount = new Map<string, number>();
  for (const i of images) if (i.tag !== undefined) tagCount.set(i.tag, (tagCount.get(i.tag) ?? 0) + 1);
  const manifests = images.map((i) => {
    const refName = i.tag === undefined ? undefined : tagCount.get(i.tag) === 1 ? i.tag : i.fullName.slice(i.fullName.indexOf('/') + 1);
    return {
      mediaType: i.mediaType,
      digest: i.digest,
      size: i.size,
      annotations: { [IMAGE_NAME]: i.fullName, ...(refName !== undefined ? { [REF_NAME]: refName } : {}) },
    };
  });
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, null, 2));
}

function addBuffer(pack: tar.Pack, name: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => pack.entry({ name, size: bytes.length, mtime: MTIME, mode: 0o644 }, bytes, (err) => (err ? reject(err) : resolve())));
}

async function exportBundle(images: string[], flags: ExportFlags): Promise<number> {
  if (flags.output === undefined || images.length === 0) {
    process.stderr.write('berth export: name at least one image and -o bundle.tar\n');
    return 2;
  }
  const config = cliConfig('export', flags);
  if (!config || !(await existingDataDir('export', config))) return 2;
  const store = new FsBlobStore(config.storage.path, false);
  const tags = new FileTagIndex(store.layout.state);
  await tags.load({ readOnly: true });
  const plan = await planBundle(config, tags, new ManifestStore(store, store.layout), store, images, { withReferrers: flags.withReferrers === true });
  for (const n of plan.notes) process.stderr.write(`berth export: note: ${n}\n`);
  if (plan.errors.length > 0) {
    for (const e of plan.errors) process.stderr.write(`berth export: ${e}\n`);
    return 1;
  }
  const out = flags.output;
  const partial = `${out}.partial-${process.pid}`;
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(partial));
  let bytes = 0;
  try {
    await addBuffer(pack, OCI_LAYOUT_FILE, Buffer.from(JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION })));
    await addBuffer(pack, INDEX_FILE, layoutIndex(plan.images));
    for (const [digest, size] of plan.content) {
      const d = parseDigest(digest);
      const body = d ? await store.open(d) : undefined;
      if (!d || !body) throw new Error(`${digest} disappeared from the store during the export`);
      await pipeline(body, pack.entry({ name: blobEntryName(d), size, mtime: MTIME, mode: 0o644 }));
      bytes += size;
    }
    pack.finalize();
    await written;
    await rename(partial, out);
  } catch (err) {
    pack.destroy();
    await written.catch(() => undefined);
    await rm(partial, { force: true });
    process.stderr.write(`berth export: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  for (const i of plan.images) process.stdout.write(`${i.fullName} ${i.digest}\n`);
  process.stdout.write(`wrote ${out}: ${plan.images.length} image(s), ${plan.content.size} blobs and manifests, ${formatBytes(bytes)}\n`);
  return 0;
}

export function registerExport(program: Command): void {
  withDataDirOptions(program.command('export').description('write cached images to an OCI image layout tar (air-gap bundle), offline'))
    .argument('<images...>', 'image references as pulled, e.g. alpine:3.19 or ghcr.io/org/app:1')
    .requiredOption('-o, --output <file>', 'bundle to write (tar)')
    .option('--with-referrers', 'also export the cached signatures, SBOMs and other OCI 1.1 referrers of the images')
    .action(async (images: string[], flags: ExportFlags) => {
      process.exitCode = await exportBundle(images, flags);
    });
}
