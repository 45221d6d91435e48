/**
 * What a process that owns the store's state reads at start (the single process, or the
 * primary of several workers): leftover temp files swept, the recency record, the file tag
 * index, and the pins over them.
 */
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { BlobStore } from './blob-store.js';
import type { NodeBlobStore } from './open-store.js';
import { Pins, parsePins } from './pins.js';
import type { SizeCap } from './cap/size-cap.js';
import { FileTagIndex, type TagIndex } from './tag-index.js';

export async function loadLocalState(store: NodeBlobStore, cap: SizeCap, metrics: Metrics, logger: Logger): Promise<void> {
  const swept = await store.sweep();
  if (swept > 0) logger.warn({ files: swept }, 'removed leftover temp files');
  const recency = await cap.load(store.list());
  metrics.cacheSize.set(recency.bytes);
  if (recency.damagedLines > 0) logger.warn({ damagedLines: recency.damagedLines }, 'recency record had damaged lines; skipped them');
}

/** Pins protect what the configured images' tags point to, from the tag index and stored manifests. */
export function pinsOf(config: Config, tags: TagIndex, store: BlobStore): Pins {
  const rules = parsePins(config.pins, {
    defaultUpstream: config.defaultUpstream,
    upstreamOf: (host) => config.upstreams.find((u) => u.name === host || u.aliases.includes(host))?.name,
  });
  return new Pins(rules, {
    tags: () => tags.entries(),
    readManifest: (digest) => store.readAll(digest),
  });
}

/** The single-node tag index: in memory and in state/tags.jsonl. */
export async function loadFileTags(stateDir: string, logger: Logger): Promise<FileTagIndex> {
  const tags = new FileTagIndex(stateDir);
  const report = await tags.load();
  if (report.damagedLines > 0) logger.warn({ damagedLines: report.damagedLines }, 'tag index had damaged lines; skipped them');
  return tags;
}
