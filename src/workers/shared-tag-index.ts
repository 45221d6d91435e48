/**
 * A worker's tag index: a mirror of the primary's (a snapshot at start, then every change any
 * worker makes), read synchronously; changes go to the primary, which writes the log and
 * passes them on. `lookup` asks the primary, which lets one worker resolve a stale tag while
 * the others wait for its answer.
 */
import { FileTagIndex, type TagEntry, type TagIndex, type TagKey } from '../store/tag-index.js';
import type { PrimaryApi, TagChange } from './protocol.js';
import type { Peer } from './rpc.js';

export class SharedTagIndex implements TagIndex {
  private readonly local = FileTagIndex.inMemory();

  constructor(private readonly primary: Peer<PrimaryApi>) {}

  async load(): Promise<void> {
    for (const [key, entry] of await this.primary.call('tagSnapshot', null)) this.local.set(key, entry);
  }

  /** A change another worker made. */
  apply(c: TagChange): void {
    if (c.op === 'set') this.local.set(c.key, c.entry);
    else if (c.op === 'delete') this.local.delete(c.key);
    else this.local.deleteTag(c.upstream, c.repository, c.tag);
  }

  get(key: TagKey): TagEntry | undefined {
    return this.local.get(key);
  }

  async lookup(key: TagKey): Promise<TagEntry | undefined> {
    const shared = await this.primary.call('tagLookup', key).catch(() => null);
    // This worker may have resolved the tag itself while the primary was answering.
    const local = this.local.get(key);
    if (!shared || (local && local.fetchedAt > shared.fetchedAt)) return local;
    this.local.set(key, shared);
    return shared;
  }

  set(key: TagKey, entry: TagEntry): void {
    this.local.set(key, entry);
    this.primary.notify('tagChange', { op: 'set', key, entry });
  }

  delete(key: TagKey): void {
    this.local.delete(key);
    this.primary.notify('tagChange', { op: 'delete', key });
  }

  deleteTag(upstream: string, repository: string, tag: string): void {
    this.local.deleteTag(upstream, repository, tag);
    this.primary.notify('tagChange', { op: 'deleteTag', upstream, repository, tag });
  }

  size(): number {
    return this.local.size();
  }

  variants(upstream: string, repository: string, tag: string): Array<{ readonly accept: string; readonly entry: TagEntry }> {
    return this.local.variants(upstream, repository, tag);
  }

  entries(): Iterable<readonly [TagKey, TagEntry]> {
    return this.local.entries();
  }

  async close(): Promise<void> {
    await this.local.close();
  }
}
