/** The LRU order of stored content, its byte count, and its record on disk across restarts. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredBlob } from '../../src/store/blob-store.js';
import { RecencyLog } from '../../src/store/cap/recency-log.js';
import { Recency } from '../../src/store/cap/recency.js';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

async function* stored(list: Array<[number, number, number]>): AsyncIterable<StoredBlob> {
  for (const [n, size, at] of list) yield { digest: d(n), size, atimeMs: at, mtimeMs: at };
}

const order = (r: Recency): string[] => [...r.oldestFirst()].map((e) => e.digest);

describe('Recency', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-recency-'));
  after(() => rm(dir, { recursive: true, force: true }));
  let clock = 1_000;
  const now = (): number => ++clock;

  it('orders by use, counts bytes, forgets removed content', async () => {
    const r = new Recency(undefined, { now });
    await r.load(stored([]));
    r.add(d(1), 10);
    r.add(d(2), 20);
    r.add(d(3), 30);
    r.touch(d(1));
    r.touch(d(99));
    assert.deepEqual(order(r), [d(2), d(3), d(1)]);
    assert.equal(r.bytes, 60);
    r.delete(d(3));
    r.delete(d(3));
    assert.equal(r.bytes, 30);
    r.add(d(2), 20);
    assert.equal(r.bytes, 30, 'a re-commit is not counted twice');
    assert.deepEqual(order(r), [d(1), d(2)]);
  });

  it('without a record, places content by its file times', async () => {
    const r = new Recency(undefined);
    const report = await r.load(stored([[1, 5, 300], [2, 5, 100], [3, 5, 200]]));
    assert.deepEqual(order(r), [d(2), d(3), d(1)]);
    assert.equal(report.fromFileTimes, 3);
    assert.equal(report.bytes, 15);
  });

  it('survives a restart through its log, even when the file times say otherwise', async () => {
    const state = join(dir, 'restart');
    await rm(state, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(state, { recursive: true }));
    const first = new Recency(new RecencyLog(state), { now });
    await first.load(stored([[1, 1, 5], [2, 1, 5], [3, 1, 5]]));
    first.touch(d(2));
    first.touch(d(1));
    await first.close();
    const second = new Recency(new RecencyLog(state), { now });
    // All file times equal and newest for 3: only the record knows 2 and 1 were used later.
    await second.load(stored([[1, 1, 5], [2, 1, 5], [3, 1, 9_999_999]]));
    assert.deepEqual(order(second), [d(3), d(2), d(1)]);
    await second.close();
  });

  it('skips torn and foreign lines, drops content that is gone, and compacts', async () => {
    const state = join(dir, 'torn');
    await import('node:fs/promises').then((fs) => fs.mkdir(state, { recursive: true }));
    const file = join(state, 'recency.log');
    await writeFile(file, `500 ${d(1)}\nnonsense\n400 ${d(2)}\n450 ${d(7)}\n600 sha256:12`);
    const r = new Recency(new RecencyLog(state));
    const report = await r.load(stored([[1, 1, 1], [2, 1, 1], [3, 1, 1]]));
    assert.equal(report.damagedLines, 2);
    assert.equal(report.fromFileTimes, 1);
    assert.deepEqual(order(r), [d(3), d(2), d(1)]);
    const compacted = (await readFile(file, 'utf8')).trim().split('\n');
    assert.deepEqual(compacted, [`1 ${d(3)}`, `400 ${d(2)}`, `500 ${d(1)}`]);
    await r.close();
  });

  it('a read-only record is never written', async () => {
    const state = join(dir, 'ro');
    await import('node:fs/promises').then((fs) => fs.mkdir(state, { recursive: true }));
    const file = join(state, 'recency.log');
    await appendFile(file, `5 ${d(1)}\n`);
    const r = new Recency(new RecencyLog(state, true), { now });
    await r.load(stored([[1, 1, 1], [2, 1, 1]]));
    r.touch(d(1));
    await r.close();
    assert.equal(await readFile(file, 'utf8'), `5 ${d(1)}\n`);
  });
});
