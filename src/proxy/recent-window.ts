/**
 * The last few MiB a fill wrote, kept in memory so readers at the front of a running fill
 * get bytes without reading back the temp file the fill just wrote.
 */

interface Part {
  readonly start: number;
  readonly buf: Buffer;
}

export class RecentWindow {
  private parts: Part[] = [];
  private bytes = 0;

  constructor(private readonly max: number) {}

  append(start: number, buffers: readonly Buffer[]): void {
    let offset = start;
    for (const buf of buffers) {
      this.parts.push({ start: offset, buf });
      offset += buf.length;
      this.bytes += buf.length;
    }
    while (this.bytes > this.max && this.parts.length > 1) this.bytes -= this.parts.shift()!.buf.length;
  }

  /**
   * Up to `max` bytes from `pos` if they are still held, else undefined. Consecutive parts
   * are joined so a reader sends few large socket writes rather than many small ones.
   */
  read(pos: number, max: number): Buffer | undefined {
    const parts = this.parts;
    if (parts.length === 0 || pos < parts[0]!.start) return undefined;
    let i = parts.length - 1;
    while (i >= 0 && parts[i]!.start > pos) i--;
    if (i < 0) return undefined;
    const first = parts[i]!;
    const from = pos - first.start;
    if (from >= first.buf.length) return undefined;
    const head = first.buf.subarray(from, Math.min(first.buf.length, from + max));
    if (head.length === max || i === parts.length - 1) return head;
    const out = [head];
    let n = head.length;
    for (let j = i + 1; j < parts.length && n < max; j++) {
      const b = parts[j]!.buf;
      const take = b.subarray(0, Math.min(b.length, max - n));
      out.push(take);
      n += take.length;
    }
    return Buffer.concat(out, n);
  }

  clear(): void {
    this.parts = [];
    this.bytes = 0;
  }
}
