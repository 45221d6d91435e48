/** Which byte intervals of a file have been written: merged, sorted, with the prefix from 0. */
export class Extents {
  /** Disjoint, sorted, non-adjacent [start, end) intervals. */
  private spans: Array<[number, number]> = [];

  add(start: number, end: number): void {
    if (end <= start) return;
    const out: Array<[number, number]> = [];
    let s = start;
    let e = end;
    for (const [a, b] of this.spans) {
      if (b < s || a > e) out.push([a, b]);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    out.push([s, e]);
    out.sort((x, y) => x[0] - y[0]);
    this.spans = out;
  }

  /** Bytes written contiguously from offset 0. */
  get prefix(): number {
    const first = this.spans[0];
    return first && first[0] === 0 ? first[1] : 0;
  }

  /** One past the last byte written anywhere. */
  get end(): number {
    return this.spans.at(-1)?.[1] ?? 0;
  }

  get count(): number {
    return this.spans.length;
  }
}
