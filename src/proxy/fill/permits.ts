/**
 * An upstream's connection cap, shared by every fill: each upstream stream holds a permit. A
 * fill's first stream waits its turn; the extra streams of a ranged fill only take permits that
 * are free, so one big blob cannot starve the others.
 */
export class Permits {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {}

  tryTake(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }

  async take(): Promise<void> {
    if (this.tryTake()) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Returns a permit; the longest waiter gets it. */
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }

  get inUse(): number {
    return this.used;
  }
}
