import { setTimeout as delay } from 'node:timers/promises';

/**
 * A bytes-per-second pacer. Callers take() before sending each slice; slices from every
 * caller sharing one pacer are serialised in time, so a shared pacer caps total bandwidth.
 */
export class Pacer {
  private next = 0;

  constructor(public bytesPerSec: number) {}

  /** Largest slice to send at once so pacing stays smooth (~20 ms granularity). */
  sliceSize(): number {
    return Math.max(1024, Math.min(256 * 1024, Math.floor(this.bytesPerSec / 50)));
  }

  async take(n: number): Promise<void> {
    const now = performance.now();
    const start = Math.max(now, this.next);
    this.next = start + (n / this.bytesPerSec) * 1000;
    const wait = start - now;
    if (wait >= 1) await delay(wait);
  }
}
