/**
 * The recency record on disk: `state/recency.log`, one `<epoch-ms> <digest>` line per use,
 * appended in batches and compacted by rewriting (temp file + rename). A torn or foreign line
 * is skipped, so a crash costs at most the last unflushed batch; content with no line falls
 * back to its file times.
 */
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDigest } from '../../oci/digest.js';

export interface RecencyRecord {
  /** Last use per digest, epoch ms. */
  readonly times: Map<string, number>;
  readonly lines: number;
  readonly damagedLines: number;
}

const LINE = /^(\d{1,16}) (\S+)$/;

export class RecencyLog {
  readonly file: string;

  constructor(
    stateDir: string,
    /** A reader that must not change the file (CLI tools next to a running daemon). */
    readonly readOnly = false,
  ) {
    this.file = join(stateDir, 'recency.log');
  }

  async read(): Promise<RecencyRecord> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const times = new Map<string, number>();
    let lines = 0;
    let damaged = 0;
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      lines++;
      const m = LINE.exec(line);
      if (!m || !parseDigest(m[2]!)) {
        damaged++;
        continue;
      }
      const at = Number(m[1]);
      const d = m[2]!;
      if (at > (times.get(d) ?? -1)) times.set(d, at);
    }
    return { times, lines, damagedLines: damaged };
  }

  async append(uses: Iterable<readonly [string, number]>): Promise<number> {
    if (this.readOnly) return 0;
    let text = '';
    let n = 0;
    for (const [digest, at] of uses) {
      text += `${at} ${digest}\n`;
      n++;
    }
    if (n > 0) await appendFile(this.file, text);
    return n;
  }

  /** Replaces the file with exactly these uses, oldest first. */
  async rewrite(uses: Iterable<readonly [string, number]>): Promise<void> {
    if (this.readOnly) return;
    const parts: string[] = [];
    for (const [digest, at] of uses) parts.push(`${at} ${digest}\n`);
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, parts.join(''));
    await rename(tmp, this.file);
  }
}
