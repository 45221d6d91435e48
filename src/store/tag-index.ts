/**
 * Tag → digest answers, keyed by (upstream, repository, tag, accepted types), kept in memory
 * and in an append-only log so a restart (even offline) still resolves cached tags.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
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
  set(key: TagKey, entry: TagEntry): void;
  delete(key: TagKey): void;
  /** Drops every accept-variant of a tag (the upstream said it no longer exists). */
  deleteTag(upstream: string, repository: string, tag: string): void;
  size(): number;
  close(): Promise<void>;
}

type LogLine = { k: string; e: TagEntry } | { k: string; d: 1 };

function keyOf(k: TagKey): string {
  return `${k.upstream}\n${k.repository}\n${k.tag}\n${k.accept}`;
}

function isEntry(v: unknown): v is TagEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.digest === 'string' && typeof e.mediaType === 'string' && typeof e.size === 'number' && typeof e.fetchedAt === 'number';
}

export interface LoadReport {
  readonly entries: number;
  readonly damagedLines: number;
}

export class FileTagIndex implements TagIndex {
  private readonly map: LRUCache<string, TagEntry>;
  private log: WriteStream | undefined;
  private readonly file: string;

  constructor(stateDir: string, maxEntries = 200_000) {
    this.file = join(stateDir, 'tags.jsonl');
    this.map = new LRUCache<string, TagEntry>({ max: maxEntries });
  }

  /** Loads the log, skipping damaged lines, and rewrites it compacted. Never throws on bad content. */
  async load(): Promise<LoadReport> {
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
    const lines: string[] = [];
    for (const [k, e] of this.map.rentries()) lines.push(JSON.stringify({ k, e }));
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, lines.length ? lines.join('\n') + '\n' : '');
    await rename(tmp, this.file);
    this.log = createWriteStream(this.file, { flags: 'a' });
    this.log.on('error', () => {
      // A failing disk must not take the daemon down; the in-memory index keeps working.
      this.log = undefined;
    });
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

  async close(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }

  private append(line: LogLine): void {
    this.log?.write(JSON.stringify(line) + '\n');
  }
}
