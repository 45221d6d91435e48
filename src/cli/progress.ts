/**
 * Prefetch progress: a bar on a terminal (bytes, blobs, rate; cli-progress), one plain line
 * per blob otherwise (logs, CI, pipes).
 */
import cliProgress from 'cli-progress';
import type { PlannedBlob, PrefetchProgress } from '../proxy/prefetch.js';
import { formatBytes } from '../util/format-bytes.js';

export interface ProgressView extends PrefetchProgress {
  start(totalBytes: number, totalBlobs: number): void;
  stop(): void;
}

function rateOf(bytes: number, since: number): string {
  const s = Math.max(0.001, (Date.now() - since) / 1000);
  return `${formatBytes(Math.round(bytes / s))}/s`;
}

class BarView implements ProgressView {
  private readonly bar: cliProgress.SingleBar;
  private bytesDone = 0;
  private blobsDone = 0;
  private total = 0;
  private totalBlobs = 0;
  private since = Date.now();

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{bar} {percentage}% | {done} of {all} | {blobs}/{totalBlobs} blobs | {rate} | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(totalBytes: number, totalBlobs: number): void {
    this.total = Math.max(1, totalBytes);
    this.totalBlobs = totalBlobs;
    this.since = Date.now();
    this.bar.start(this.total, 0, this.payload());
  }

  bytes(n: number): void {
    this.bytesDone += n;
    this.bar.update(Math.min(this.bytesDone, this.total), this.payload());
  }

  blobDone(): void {
    this.blobsDone++;
    this.bar.update(Math.min(this.bytesDone, this.total), this.payload());
  }

  stop(): void {
    this.bar.update(this.total, this.payload());
    this.bar.stop();
  }

  private payload(): Record<string, string | number> {
    return { done: formatBytes(this.bytesDone), all: formatBytes(this.total), blobs: this.blobsDone, totalBlobs: this.totalBlobs, rate: rateOf(this.bytesDone, this.since) };
  }
}

class LineView implements ProgressView {
  private bytesDone = 0;
  private blobsDone = 0;
  private totalBlobs = 0;
  private since = Date.now();

  constructor(private readonly out: NodeJS.WritableStream) {}

  start(totalBytes: number, totalBlobs: number): void {
    this.totalBlobs = totalBlobs;
    this.since = Date.now();
    this.out.write(`fetching ${totalBlobs} blobs, ${formatBytes(totalBytes)}\n`);
  }

  bytes(n: number): void {
    this.bytesDone += n;
  }

  blobDone(blob: PlannedBlob, ok: boolean, cached: boolean): void {
    this.blobsDone++;
    const what = !ok ? 'FAILED' : cached ? 'cached' : 'fetched';
    this.out.write(`[${this.blobsDone}/${this.totalBlobs}] ${blob.digest.value} ${formatBytes(Math.max(0, blob.size))} ${what} (${formatBytes(this.bytesDone)}, ${rateOf(this.bytesDone, this.since)})\n`);
  }

  stop(): void {}
}

export function progressView(stream: NodeJS.WriteStream): ProgressView {
  return stream.isTTY ? new BarView(stream) : new LineView(stream);
}
