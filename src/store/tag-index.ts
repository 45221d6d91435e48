/**
 * Tag → digest answers, keyed by (upstream, repository, tag, accepted types), kept in memory
 * and in an append-only log so a restart (even offline) still resolves cached tags.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';

export interface TagKey {
  readonly upstream: string;
  readonly repository: string;
  readonly tag: string;
  /** Canonical accepted media types joined by ','. */
  readonly accept: string;
}

export interface TagEntry {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly fetchedAt: number;
}

export interface TagIndex {
  get(key: TagKey): TagEntry | undefined;
  /**
   * A shared index (several nodes) is asked when the local answer is missing or stale; it may
   * wait briefly while another node resolves the same tag. Local-only indexes leave it out.
   */
  lookup?(key: TagKey): Promise<TagEntry | undefined>;
  set(key: TagKey, entry: TagEntry): void;
  /** Resolving the tag failed (not "absent"): whoever waits on this node's answer stops waiting. */
  abandon?(key: TagKey): void;
  delete(key: TagKey): void;
  /** Drops every accept-variant of a tag (the upstream said it no longer exists). */
  deleteTag(upstream: string, repository: string, tag: string): void;
  size(): number;
  /** Every cached accept-variant of a tag. */
  variants(upstream: string, repository: string, tag: string): Array<{ readonly accept: string; readonly entry: TagEntry }>;
  /** Every cached answer, without touching recency. */
  entries(): Iterable<readonly [TagKey, TagEntry]>;
  close(): Promise<void>;
}

/**
 * The cached answer for a request: its own Accept list's entry while fresh, else the newest
 * fresh entry resolved for another Accept list whose manifest type this request names (a
 * containerd client takes what a Docker client resolved). Else its own entry, fresh or not.
 */
export function answerFor(
  key: TagKey,
  exact: TagEntry | undefined,
  variants: Iterable<{ readonly accept: string; readonly entry: TagEntry }>,
  fresh: (e: TagEntry) => boolean,
): TagEntry | undefined {
  if (exact && fresh(exact)) return exact;
  const accept = key.accept.split(',');
  let best: TagEntry | undefined;
  for (const v of variants) {
    if (v.accept !== key.accept && accept.includes(v.entry.mediaType) && fresh(v.entry) && (!best || v.entry.fetchedAt > best.fetchedAt)) best = v.entry;
  }
  return best ?? exact;
}

const REOPEN_AFTER_MS = 5_000;

type LogLine = { k: string; e: TagEntry } | { k: string; d: 1 };

function keyOf(k: TagKey): string {
  return `${k.upstream}\n${k.repository}\n${k.tag}\n${k.accept}`;
}

function isEntry(v: unknown): v is TagEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.digest === 'string' && typeof e.mediaType === 'string' && typeof e.size === 'number' && typeof e.fetchedAt === 'number';
}

function parseKey(k: string): TagKey | undefined {
  const [upstream, repository, tag, accept] = k.split('\n');
  if (upstream === undefined || repository === undefined || tag === undefined || accept === undefined) return undefined;
  return { upstream, repository, tag, accept };
}

export interface TagLoadOptions {
  /** Rewrite the log compacted (default). Off for a second writer next to a running daemon. */
  readonly compact?: boolean;
  /** Never write: CLI tools reading a running daemon's index. */
  readonly readOnly?: boolean;
}

export interface LoadReport {
  readonly entries: number;
  readonly damagedLines: number;
}

export class FileTagIndex implements TagIndex {
  private readonly map: LRUCache<string, TagEntry>;
  private log: WriteStream | undefined;
  private closed = false;
  /** The last write may have been cut short; the next one starts on a fresh line. */
  private torn = false;
  private failedAt = 0;
  private readonly file: string;

  constructor(stateDir: string, maxEntries = 200_000) {
    this.file = join(stateDir, 'tags.jsonl');
    this.map = new LRUCache<string, TagEntry>({ max: maxEntries });
  }

  /** An index that never touches a file: a worker's mirror of the primary's index. */
  static inMemory(maxEntries?: number): FileTagIndex {
    const index = new FileTagIndex('', maxEntries);
    index.closed = true;
    return index;
  }

  /** Loads the log, skipping damaged lines, and rewrites it compacted. Never throws on bad content. */
  async load(opts: TagLoadOptions = {}): Promise<LoadReport> {
    let damaged = 0;
    const text = await readFile(this.file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        const parsed = JSON.parse(line) as LogLine;
        if (typeof parsed.k !== 'string') throw new Error('bad key');
        if ('d' in parsed) this.map.delete(parsed.k);
        else if (isEntry(parsed.e)) this.map.set(parsed.k, parsed.e);
        else throw new Error('bad entry');
      } catch {
        damaged++;
      }
    }
    if (opts.readOnly || opts.compact === false) {
      if (opts.readOnly) this.closed = true;
      else {
        this.torn = text.length > 0 && !text.endsWith('\n');
        this.openLog();
      }
      return { entries: this.map.size, damagedLines: damaged };
    }
    const lines: string[] = [];
    for (const [k, e] of this.map.rentries()) lines.push(JSON.stringify({ k, e }));
    const tmp = `${this.file}.tmp`;
    try {
      await writeFile(tmp, lines.length ? lines.join('\n') + '\n' : '');
      await rename(tmp, this.file);
    } catch {
      // A full or read-only disk: the uncompacted log still loads next time; start anyway.
      await rm(tmp, { force: true }).catch(() => undefined);
      this.torn = true;
    }
    this.openLog();
    return { entries: this.map.size, damagedLines: damaged };
  }

  get(key: TagKey): TagEntry | undefined {
    return this.map.get(keyOf(key));
  }

  set(key: TagKey, entry: TagEntry): void {
    const k = keyOf(key);
    this.map.set(k, entry);
    this.append({ k, e: entry });
  }

  delete(key: TagKey): void {
    const k = keyOf(key);
    if (this.map.delete(k)) this.append({ k, d: 1 });
  }

  deleteTag(upstream: string, repository: string, tag: string): void {
    const prefix = `${upstream}\n${repository}\n${tag}\n`;
    for (const k of [...this.map.keys()]) {
      if (k.startsWith(prefix)) {
        this.map.delete(k);
        this.append({ k, d: 1 });
      }
    }
  }

  size(): number {
    return this.map.size;
  }

  variants(upstream: string, repository: string, tag: string): Array<{ readonly accept: string; readonly entry: TagEntry }> {
    const prefix = `${upstream}\n${repository}\n${tag}\n`;
    const out: Array<{ accept: string; entry: TagEntry }> = [];
    for (const [k, entry] of this.map.entries()) if (k.startsWith(prefix)) out.push({ accept: k.slice(prefix.length), entry });
    return out;
  }

  *entries(): Generator<readonly [TagKey, TagEntry]> {
    for (const [k, e] of this.map.entries()) {
      const key = parseKey(k);
      if (key) yield [key, e];
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }

  private openLog(): void {
    const log = createWriteStream(this.file, { flags: 'a' });
    log.on('error', () => {
      // A failing disk must not take the daemon down; the in-memory index keeps working and
      // the log is reopened on a later write, once the disk may have room again.
      if (this.log === log) this.log = undefined;
      this.torn = true;
      this.failedAt = Date.now();
    });
    this.log = log;
  }

  private append(line: LogLine): void {
    if (!this.log && !this.closed && Date.now() - this.failedAt >= REOPEN_AFTER_MS) this.openLog();
    if (!this.log) return;
    // A line cut short by the failure must not swallow the next one.
    const lead = this.torn ? '\n' : '';
    this.torn = false;
    this.log.write(lead + JSON.stringify(line) + '\n');
  }
}
