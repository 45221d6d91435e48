/**
 * Least-recently-used order of the stored content, by digest, with the bytes it holds.
 * Every served or committed digest moves to the most recent end; eviction reads from the
 * least recent end. Uses are recorded to a RecencyLog in batches, so the order survives a
 * restart; content the log does not know is placed by its file times (atime/mtime).
 */
import { LRUCache } from 'lru-cache';
import type { StoredBlob } from '../blob-store.js';
import type { RecencyLog } from './recency-log.js';

interface Entry {
  readonly size: number;
  at: number;
}

export interface RecencyOptions {
  /** How often pending uses are appended to the log. */
  readonly flushMs?: number;
  readonly now?: () => number;
}

export interface RecencyLoadReport {
  readonly entries: number;
  readonly bytes: number;
  /** Stored content the log had no line for (placed by file times). */
  readonly fromFileTimes: number;
  readonly damagedLines: number;
}

export class Recency {
  private readonly lru = new LRUCache<string, Entry>({ maxSize: Number.MAX_SAFE_INTEGER, sizeCalculation: (e) => e.size + 1 });
  private total = 0;
  private pending = new Map<string, number>();
  private appended = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    private readonly log: RecencyLog | undefined,
    private readonly opts: RecencyOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Builds the order from the store's content and the log, and compacts the log. */
  async load(stored: AsyncIterable<StoredBlob>): Promise<RecencyLoadReport> {
    const record = this.log ? await this.log.read() : { times: new Map<string, number>(), lines: 0, damagedLines: 0 };
    const found: Array<{ digest: string; size: number; at: number }> = [];
    let fromFileTimes = 0;
    for await (const b of stored) {
      const logged = record.times.get(b.digest);
      if (logged === undefined) fromFileTimes++;
      found.push({ digest: b.digest, size: b.size, at: logged ?? Math.max(b.atimeMs, b.mtimeMs ?? 0) });
    }
    found.sort((a, b) => a.at - b.at);
    for (const f of found) this.insert(f.digest, f.size, f.at);
    await this.log?.rewrite(this.uses());
    this.appended = 0;
    if (this.log && !this.log.readOnly) {
      this.timer = setInterval(() => void this.flush(), this.opts.flushMs ?? 2_000);
      this.timer.unref();
    }
    return { entries: this.lru.size, bytes: this.total, fromFileTimes, damagedLines: record.damagedLines };
  }

  /** Newly committed content: the most recent. */
  add(digest: string, size: number): void {
    const at = this.now();
    this.insert(digest, size, at);
    this.pending.set(digest, at);
  }

  /** Content served again. Unknown digests are ignored (their commit adds them). */
  touch(digest: string): void {
    const e = this.lru.get(digest);
    if (!e) return;
    e.at = this.now();
    this.pending.set(digest, e.at);
  }

  delete(digest: string): void {
    const e = this.lru.peek(digest);
    if (!e) return;
    this.lru.delete(digest);
    this.total -= e.size;
    this.pending.delete(digest);
  }

  has(digest: string): boolean {
    return this.lru.has(digest);
  }

  sizeOf(digest: string): number | undefined {
    return this.lru.peek(digest)?.size;
  }

  /** Bytes of all known content. */
  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.lru.size;
  }

  /** Least recently used first. Does not change the order. */
  *oldestFirst(): Generator<{ readonly digest: string; readonly size: number }> {
    for (const digest of this.lru.rkeys()) {
      const e = this.lru.peek(digest);
      if (e) yield { digest, size: e.size };
    }
  }

  /** Appends pending uses; compacts the log when it has grown well past the live entries. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write()).catch(() => undefined);
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (!this.log || this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    if (this.appended > 2 * this.lru.size + 10_000) {
      await this.log.rewrite(this.uses());
      this.appended = 0;
      return;
    }
    this.appended += await this.log.append(batch);
  }

  private insert(digest: string, size: number, at: number): void {
    const old = this.lru.peek(digest);
    if (old) this.total -= old.size;
    this.lru.set(digest, { size, at });
    this.total += size;
  }

  private *uses(): Generator<readonly [string, number]> {
    for (const digest of this.lru.rkeys()) {
      const e = this.lru.peek(digest);
      if (e) yield [digest, e.at];
    }
  }
}
