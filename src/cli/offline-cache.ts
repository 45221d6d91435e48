/**
 * The cache of a data dir opened by a maintenance command (gc, stats) next to a possibly
 * running daemon: the tag index and the LRU record are read, never rewritten.
 */
import type { Config } from '../config/index.js';
import type { Digest } from '../oci/digest.js';
import { FsBlobStore } from '../store/fs-blob-store.js';
import { ManifestStore } from '../store/manifest-store.js';
import { Pins, parsePin, type PinRule } from '../store/pins.js';
import { FileTagIndex } from '../store/tag-index.js';
import { upstreamOf } from './cli-config.js';

export interface OfflineCache {
  readonly store: FsBlobStore;
  readonly manifests: ManifestStore;
  readonly tags: FileTagIndex;
  readonly pins: Pins;
  readManifest(digest: Digest): Promise<Buffer | undefined>;
}

export async function openOfflineCache(config: Config): Promise<OfflineCache | string> {
  const store = new FsBlobStore(config.storage.path, config.storage.fsync);
  const tags = new FileTagIndex(store.layout.state);
  await tags.load({ readOnly: true });
  const rules: PinRule[] = [];
  for (const text of config.pins) {
    const r = parsePin(text, { defaultUpstream: config.defaultUpstream, upstreamOf: (h) => upstreamOf(config, h) });
    if (typeof r === 'string') return r;
    rules.push(r);
  }
  const readManifest = (digest: Digest): Promise<Buffer | undefined> => store.readAll(digest);
  const pins = new Pins(rules, { tags: () => tags.entries(), readManifest });
  return { store, manifests: new ManifestStore(store, store.layout), tags, pins, readManifest };
}
