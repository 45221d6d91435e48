/**
 * Clients that leave early, and the check that berth let go of everything they held. Shared
 * by the abort test and the soak.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { entriesOf, openFds, openFilesUnder, rssBytes } from '../support/resources.js';
import type { Mirror } from './harness.js';
import { waitUntil } from './resilience-support.js';

export interface Download {
  /** 0 when no answer arrived (aborted before the headers, or the connection failed). */
  readonly status: number;
  readonly bytes: number;
  /** The whole body arrived (content-length honoured by undici). */
  readonly complete: boolean;
  /** sha256 of the body when complete. */
  readonly digest?: string;
  /** The client hung up on purpose. */
  readonly aborted: boolean;
}

export interface DownloadOptions {
  readonly dispatcher: Dispatcher;
  readonly headers?: Record<string, string>;
  /** Hang up once this many body bytes arrived; 0 = right after sending, before any answer. Absent: read it all. */
  readonly abortAt?: number;
  /** Upper bound on the whole download (a stalled answer fails the download, not the test run). */
  readonly timeoutMs?: number;
}

/** GET that reads the body, hashing it, and hangs up at `abortAt` if given. Never throws. */
export async function download(url: string, opts: DownloadOptions): Promise<Download> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('download timed out')), opts.timeoutMs ?? 30_000);
  const pending = request(url, { dispatcher: opts.dispatcher, headers: opts.headers ?? {}, signal: ac.signal });
  let status = 0;
  let bytes = 0;
  let aborted = false;
  try {
    if (opts.abortAt === 0) {
      aborted = true;
      ac.abort();
    }
    const res = await pending;
    status = res.statusCode;
    const hash = createHash('sha256');
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      hash.update(buf);
      if (opts.abortAt !== undefined && bytes >= opts.abortAt) {
        aborted = true;
        ac.abort();
        return { status, bytes, complete: false, aborted };
      }
    }
    return { status, bytes, complete: true, digest: `sha256:${hash.digest('hex')}`, aborted };
  } catch {
    return { status, bytes, complete: false, aborted };
  } finally {
    clearTimeout(timer);
  }
}

/** What berth holds that a departed client could leak, plus this process's descriptors and memory. */
export interface Held {
  readonly fds: number;
  /** Descriptors on files under the data dir (blobs, temp files). */
  readonly dataFiles: readonly string[];
  readonly storeReaders: number | undefined;
  readonly leases: number;
  readonly fills: number;
  readonly tempFiles: readonly string[];
  readonly rss: number;
}

export async function heldBy(mirror: Mirror): Promise<Held> {
  const b = mirror.berth;
  return {
    fds: await openFds(),
    dataFiles: await openFilesUnder(mirror.dataDir),
    storeReaders: b.openReaders(),
    leases: b.cache.inUse.size,
    fills: b.fills.list().length,
    tempFiles: await entriesOf(join(mirror.dataDir, 'tmp')),
    rss: rssBytes(),
  };
}

export interface Flatness {
  /** Descriptors allowed above the baseline: pooled keep-alive sockets come and go. */
  readonly fdSlack: number;
  readonly rssGrowthBytes: number;
  readonly timeoutMs?: number;
}

/**
 * Waits (bounded) until every fill has ended and berth holds no more than at `baseline`: no
 * store reader, no lease, no temp file; then, at once, no blob or temp file open (a reader
 * closes its file before it lets its lease go, and waiting longer would let the garbage
 * collector close a leaked descriptor for it); descriptors and RSS within the slack. Fails
 * with both snapshots.
 */
export async function assertFlat(mirror: Mirror, baseline: Held, limits: Flatness): Promise<Held> {
  await mirror.berth.fills.idle();
  let last = await heldBy(mirror);
  const fail = (err: Error): never => assert.fail(`${err.message}\nbefore: ${JSON.stringify(baseline)}\nnow:    ${JSON.stringify(last)}`);
  const released = (h: Held): boolean =>
    h.storeReaders === baseline.storeReaders && h.leases === baseline.leases && h.fills === 0 && h.tempFiles.length === baseline.tempFiles.length;
  await waitUntil('berth to release what departed clients held', async () => released((last = await heldBy(mirror))), limits.timeoutMs ?? 10_000).catch(fail);
  last = await heldBy(mirror);
  if (last.dataFiles.length !== baseline.dataFiles.length) fail(new Error('blob or temp files still open after every reader let go'));
  await waitUntil('pooled connections to close', async () => (last = await heldBy(mirror)).fds <= baseline.fds + limits.fdSlack, limits.timeoutMs ?? 10_000).catch(fail);
  assert.ok(last.rss - baseline.rss <= limits.rssGrowthBytes, `RSS grew by ${((last.rss - baseline.rss) / 2 ** 20).toFixed(0)} MiB (bound ${(limits.rssGrowthBytes / 2 ** 20).toFixed(0)} MiB)`);
  return last;
}
