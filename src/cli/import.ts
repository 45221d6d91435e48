/**
 * `berth import bundle.tar`: loads an OCI layout tar (as `berth export` writes) into a store.
 * Each blob streams from the tar into the store and is verified against its digest before it
 * becomes visible; manifests get their media types from the descriptors; tags are recorded in
 * the tag index (appended; a running daemon sees them after a restart).
 * Exit 0: imported; 1: the bundle is damaged or incomplete; 2: bad usage.
 */
import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import tar from 'tar-stream';
import { parseDigest, type Digest } from '../oci/digest.js';
import { KNOWN_MANIFEST_TYPES } from '../oci/media-types.js';
import { FsBlobStore } from '../store/fs-blob-store.js';
import { ManifestStore } from '../store/manifest-store.js';
import { FileTagIndex } from '../store/tag-index.js';
import { cliConfig, type DataFlags, withDataDirOptions } from './cli-config.js';
import { readEntry, storeEntry, type Loaded } from './import-entries.js';
import { loadLayoutIndex, recordImages } from './import-index.js';
import { INDEX_FILE, OCI_LAYOUT_FILE, digestOfEntry, plainEntryName } from '../oci/image-layout.js';
import { formatBytes } from '../util/format-bytes.js';

interface ImportFlags extends DataFlags {
  upstream?: string;
}

/** A `blobs/<alg>/<hex>` entry names its content; a name that is no valid digest fails the import. */
function entryDigest(text: string): Digest {
  const d = parseDigest(text);
  if (!d) throw new Error(`entry for an invalid digest ${text}`);
  return d;
}

async function importBundle(file: string, flags: ImportFlags): Promise<number> {
  const config = cliConfig('import', flags);
  if (!config) return 2;
  if (flags.upstream !== undefined && !config.upstreams.some((u) => u.name === flags.upstream)) {
    process.stderr.write(`berth import: --upstream ${flags.upstream} is not a configured upstream\n`);
    return 2;
  }
  const store = new FsBlobStore(config.storage.path, config.storage.fsync);
  await store.init();
  const loaded: Loaded = { blobs: 0, bytes: 0, skipped: 0 };
  let indexBytes: Buffer | undefined;
  let layout: Buffer | undefined;
  const extract = tar.extract();
  const input = createReadStream(file);
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const name = plainEntryName(entry.header.name);
      const digest = digestOfEntry(name);
      if (name === INDEX_FILE) indexBytes = await readEntry(entry, 16 * 1024 * 1024);
      else if (name === OCI_LAYOUT_FILE) layout = await readEntry(entry, 4096);
      else if (digest !== undefined && entry.header.type === 'file') await storeEntry(store, entryDigest(digest), entry, loaded);
      else entry.resume();
    }
  } catch (err) {
    process.stderr.write(`berth import: ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  if (!layout || !indexBytes) {
    process.stderr.write(`berth import: ${file} is not an OCI image layout (no ${!layout ? OCI_LAYOUT_FILE : INDEX_FILE})\n`);
    return 1;
  }
  const manifests = new ManifestStore(store, store.layout);
  const index = await loadLayoutIndex(indexBytes, store, manifests);
  for (const n of index.notes) process.stderr.write(`berth import: note: ${n}\n`);
  for (const e of index.errors) process.stderr.write(`berth import: ${e}\n`);
  const tags = new FileTagIndex(store.layout.state);
  await tags.load({ compact: false });
  const accepts = [[...KNOWN_MANIFEST_TYPES].sort().join(','), ''];
  const recorded = recordImages(config, index.images, tags, accepts, flags.upstream, Date.now());
  await tags.close();
  for (const r of recorded.lines) process.stdout.write(`${r}\n`);
  for (const w of recorded.warnings) process.stderr.write(`berth import: ${w}\n`);
  process.stdout.write(
    `imported ${loaded.blobs} blobs and manifests (${formatBytes(loaded.bytes)}; ${loaded.skipped} already present), ` +
      `${index.manifests} manifest(s), ${recorded.tags} tag(s) into ${config.storage.path}\n`,
  );
  return index.errors.length > 0 ? 1 : 0;
}

export function registerImport(program: Command): void {
  withDataDirOptions(program.command('import').description('load an OCI layout tar (from berth export) into the cache and its tag index'))
    .argument('<bundle>', 'bundle tar file')
    .option('--upstream <name>', 'record the tags under this upstream (default: the registry in each image name, else defaultUpstream)')
    .action(async (bundle: string, flags: ImportFlags) => {
      process.exitCode = await importBundle(bundle, flags);
    });
}
