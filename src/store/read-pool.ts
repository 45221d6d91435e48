/**
 * Read buffers for serving committed blobs, reused instead of allocated per read: a fresh
 * multi-MiB Buffer per read is external memory that V8 answers with major GCs, whose cost
 * grows with the live heap and takes the core the clients need.
 *
 * Every reader gets buffers of the same size, chosen by how many readers are active so that two
 * buffers each fit the budget: few clients get large reads (few syscalls), many get smaller
 * ones, and no client is faster only because it holds a bigger buffer. Buffers of a size no
 * longer in use are dropped as they come back. When the budget is lent out, a reader reads
 * with a one-off buffer of the smallest size instead of waiting, so slow clients holding
 * buffers never stall the others.
 */
export class ReadPool {
  private readonly free = new Map<number, Buffer[]>();
  private lentBytes = 0;
  private idleBytes = 0;
  private lent = 0;
  private active = 0;
  /** Buffers ever created (tests: reuse means this stays small). */
  created = 0;

  constructor(
    /** Bytes the pool may hold, lent and free together. */
    private readonly budget: number,
    /** Buffer sizes, largest first. */
    private readonly sizes: readonly number[],
  ) {}

  /** The smallest size: what a reader uses when the pool has nothing to lend. */
  get overflowSize(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /** A reader starts serving; call the result when it stops. */
  enter(): () => void {
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active--;
    };
  }

  /** Readers serving now (tests check that it returns to 0). */
  get readers(): number {
    return this.active;
  }

  /** The buffer size for the readers active now: two each within the budget. */
  get size(): number {
    const fair = this.budget / (2 * Math.max(1, this.active));
    return this.sizes.find((s) => s <= fair) ?? this.overflowSize;
  }

  /** A pooled buffer of the current size, or undefined when the budget is lent out. */
  take(): Buffer | undefined {
    const size = this.size;
    const b = this.free.get(size)?.pop();
    if (b) this.idleBytes -= size;
    else if (this.lentBytes + this.idleBytes + size > this.budget && !this.dropFree(size)) return undefined;
    this.lent++;
    this.lentBytes += size;
    if (b) return b;
    this.created++;
    // Slow: a buffer of its own rather than a slice of Node's shared pool, so keeping it never
    // keeps unrelated small allocations alive.
    return Buffer.allocUnsafeSlow(size);
  }

  /** The buffer is no longer referenced by anyone (its socket write completed). */
  give(b: Buffer): void {
    this.lent--;
    this.lentBytes -= b.length;
    // A size readers no longer get is left to the GC.
    if (b.length !== this.size) return;
    const list = this.free.get(b.length) ?? [];
    list.push(b);
    this.idleBytes += b.length;
    this.free.set(b.length, list);
  }

  /**
   * A lent buffer that may still be referenced (a write that never reported completion): it is
   * left to the GC and a new one may be created in its place.
   */
  forget(b: Buffer): void {
    this.lent--;
    this.lentBytes -= b.length;
  }

  get lentCount(): number {
    return this.lent;
  }

  /** Frees idle buffers of other sizes until `size` more fits; false if it cannot. */
  private dropFree(size: number): boolean {
    for (const [s, list] of this.free) {
      if (s === size) continue;
      while (list.length > 0 && this.lentBytes + this.idleBytes + size > this.budget) this.idleBytes -= list.pop()!.length;
    }
    return this.lentBytes + this.idleBytes + size <= this.budget;
  }
}
