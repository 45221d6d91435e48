/**
 * The most frequent keys in bounded memory (the space-saving algorithm): at most `capacity` keys
 * are tracked; a new key replaces the least counted one and inherits its count, so heavy hitters
 * stay and their counts are upper bounds. In memory only, never a metric label.
 */
export interface Counted {
  readonly key: string;
  readonly count: number;
}

export class TopCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly capacity: number) {
    if (capacity < 1) throw new Error('capacity must be at least 1');
  }

  add(key: string): void {
    const n = this.counts.get(key);
    if (n !== undefined) {
      this.counts.set(key, n + 1);
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, 1);
      return;
    }
    let minKey = '';
    let min = Infinity;
    for (const [k, c] of this.counts) {
      if (c < min) {
        min = c;
        minKey = k;
      }
    }
    this.counts.delete(minKey);
    this.counts.set(key, min + 1);
  }

  /** The n most counted keys, most first; ties by key. */
  top(n: number): Counted[] {
    return [...this.counts]
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
      .slice(0, n);
  }
}
