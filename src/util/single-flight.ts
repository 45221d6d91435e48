/** Coalesces concurrent calls for the same key into one promise. */

export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  /** `joined` tells the caller whether it shared someone else's call. */
  run(key: string, fn: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const existing = this.inflight.get(key);
    if (existing) return { promise: existing, joined: true };
    const promise = fn().finally(() => {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    });
    this.inflight.set(key, promise);
    return { promise, joined: false };
  }
}
