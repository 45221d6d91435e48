/**
 * The tag index across workers: the primary holds the one writer (FileTagIndex and its log);
 * workers mirror it and send their changes here, which go to every other worker. A worker that
 * finds a tag missing or stale asks `lookup`: the first one resolves it upstream, the others
 * wait (bounded) for its answer, so a tag costs one upstream HEAD per TTL across all workers.
 */
import type { TagEntry, TagIndex, TagKey } from '../store/tag-index.js';
import type { TagChange } from './protocol.js';

interface Resolving {
  readonly worker: number;
  readonly timer: NodeJS.Timeout;
  readonly waiters: Array<() => void>;
}

export interface TagHubOptions {
  readonly ttlOf: (upstream: string) => number;
  /** How long one worker may take to resolve a tag before the waiting ones stop waiting. */
  readonly resolveMs: number;
  readonly now: () => number;
}

const tagPrefix = (upstream: string, repository: string, tag: string): string => `${upstream}\n${repository}\n${tag}\n`;
const keyOf = (k: TagKey): string => `${tagPrefix(k.upstream, k.repository, k.tag)}${k.accept}`;

export class TagHub {
  private readonly resolving = new Map<string, Resolving>();

  constructor(
    private readonly index: TagIndex,
    /** Sends a change to every worker but the one it came from. */
    private readonly broadcast: (change: TagChange, from: number) => void,
    private readonly opts: TagHubOptions,
  ) {}

  async lookup(worker: number, key: TagKey): Promise<TagEntry | null> {
    const k = keyOf(key);
    const entry = this.index.get(key);
    if (entry && this.opts.now() - entry.fetchedAt < this.opts.ttlOf(key.upstream)) return entry;
    const r = this.resolving.get(k);
    if (r && r.worker !== worker) {
      await new Promise<void>((resolve) => r.waiters.push(resolve));
      return this.index.get(key) ?? entry ?? null;
    }
    if (!r) {
      const timer = setTimeout(() => this.finish(k), this.opts.resolveMs);
      timer.unref();
      this.resolving.set(k, { worker, timer, waiters: [] });
    }
    return entry ?? null;
  }

  change(from: number, c: TagChange): void {
    if (c.op === 'set') this.index.set(c.key, c.entry);
    else if (c.op === 'delete') this.index.delete(c.key);
    else this.index.deleteTag(c.upstream, c.repository, c.tag);
    this.broadcast(c, from);
    if (c.op !== 'deleteTag') this.finish(keyOf(c.key));
    else {
      const prefix = tagPrefix(c.upstream, c.repository, c.tag);
      for (const k of [...this.resolving.keys()]) if (k.startsWith(prefix)) this.finish(k);
    }
  }

  snapshot(): Array<readonly [TagKey, TagEntry]> {
    return [...this.index.entries()];
  }

  workerDied(worker: number): void {
    for (const [k, r] of [...this.resolving]) if (r.worker === worker) this.finish(k);
  }

  close(): void {
    for (const k of [...this.resolving.keys()]) this.finish(k);
  }

  private finish(k: string): void {
    const r = this.resolving.get(k);
    if (!r) return;
    this.resolving.delete(k);
    clearTimeout(r.timer);
    for (const w of r.waiters) w();
  }
}
