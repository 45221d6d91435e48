/**
 * Where a fill stands, as readers see it: how many bytes they may read, the size, and whether
 * the content is verified or failed. The fill is its only writer; readers wait on `changed()`,
 * one promise per change, shared by every waiter.
 */
export type FillPhase = 'starting' | 'running' | 'verified' | 'failed';

export interface FillSnapshot {
  readonly phase: FillPhase;
  /** -1 until known (an upstream that sent no length). */
  readonly size: number;
  /** Bytes contiguous from offset 0 in the spool. */
  readonly available: number;
  readonly failure?: Error;
}

/** Read-only side of a fill's progress: what a reader follows. */
export interface ProgressView {
  get(): FillSnapshot;
  /** Resolves at the next change. */
  changed(): Promise<void>;
}

export class FillProgress implements ProgressView {
  private snap: FillSnapshot = { phase: 'starting', size: -1, available: 0 };
  private next: { promise: Promise<void>; resolve: () => void } | undefined;

  get(): FillSnapshot {
    return this.snap;
  }

  changed(): Promise<void> {
    if (!this.next) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.next = { promise, resolve };
    }
    return this.next.promise;
  }

  /** Ends with 'verified' or 'failed'; nothing changes after that. */
  update(patch: Partial<FillSnapshot>): void {
    if (this.snap.phase === 'verified' || this.snap.phase === 'failed') return;
    this.snap = { ...this.snap, ...patch };
    const waiting = this.next;
    this.next = undefined;
    waiting?.resolve();
  }

  /** What a reader may send now: the blob's last byte waits until the digest is verified. */
  static readable(s: FillSnapshot): number {
    if (s.phase === 'verified' || s.size < 0) return s.available;
    return Math.min(s.available, s.size - 1);
  }
}
