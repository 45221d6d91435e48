/**
 * Read buffers for serving committed blobs, reused instead of allocated per read: a fresh
 * multi-MiB Buffer per read is external memory that V8 answers with major GCs, whose cost
 * grows with the live heap and takes the core the clients need. The pool holds at most `max`
 * buffers; a reader that finds none free reads with a small one-off buffer instead of waiting,
 * so slow clients holding pooled buffers never stall the others.
 */
export class ReadPool {
  private readonly free: Buffer[] = [];
  private lent = 0;
  /** Buffers ever created (tests: reuse means this stays small). */
  created = 0;

  constructor(
    readonly bufferSize: number,
    private readonly max: number,
    /** The size of the one-off buffers used when every pooled buffer is lent. */
    readonly overflowSize: number,
  ) {}

  /** A pooled buffer, or undefined when all `max` are lent. */
  take(): Buffer | undefined {
    const b = this.free.pop();
    if (b) {
      this.lent++;
      return b;
    }
    if (this.lent >= this.max) return undefined;
    this.lent++;
    this.created++;
    // Slow: a buffer of its own rather than a slice of Node's shared pool, so giving it back
    // never keeps unrelated small allocations alive.
    return Buffer.allocUnsafeSlow(this.bufferSize);
  }

  /** The buffer is no longer referenced by anyone (its socket write completed). */
  give(b: Buffer): void {
    this.lent--;
    this.free.push(b);
  }

  /**
   * A lent buffer that may still be referenced (a write that never reported completion):
   * it is left to the GC and a new one may be created in its place.
   */
  forget(): void {
    this.lent--;
  }

  get lentCount(): number {
    return this.lent;
  }
}
