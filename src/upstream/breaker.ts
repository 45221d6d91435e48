/**
 * A per-upstream circuit breaker. After `threshold` consecutive failed exchanges (no answer or
 * a 5xx after retries) it opens: requests fail at once, so a dead upstream costs clients no
 * waiting when the cache can answer. After the cool-down one probe is let through (half-open);
 * its outcome closes the breaker or opens it for another cool-down.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What `admit` decided for one exchange; hand it back to exactly one of the outcome calls. */
export type Admission =
  | { readonly kind: 'pass' }
  | { readonly kind: 'probe' }
  | { readonly kind: 'reject'; readonly retryInMs: number };

export interface BreakerOptions {
  /** Consecutive failures that open the breaker; 0 disables it. */
  readonly threshold: number;
  readonly coolDownMs: number;
  readonly now: () => number;
  readonly onChange?: (state: BreakerState) => void;
}

const PASS: Admission = { kind: 'pass' };
const PROBE: Admission = { kind: 'probe' };

export class Breaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(private readonly opts: BreakerOptions) {}

  get state(): BreakerState {
    return this.current;
  }

  admit(): Admission {
    if (this.opts.threshold <= 0 || this.current === 'closed') return PASS;
    const elapsed = this.opts.now() - this.openedAt;
    if (this.current === 'open' && elapsed >= this.opts.coolDownMs) this.move('half-open');
    if (this.current === 'half-open' && !this.probing) {
      this.probing = true;
      return PROBE;
    }
    return { kind: 'reject', retryInMs: Math.max(0, this.opts.coolDownMs - elapsed) };
  }

  /** True while requests are being turned away; a retry loop stops waiting then. */
  get isOpen(): boolean {
    return this.current !== 'closed';
  }

  succeeded(a: Admission): void {
    if (a.kind === 'reject') return;
    if (a.kind === 'probe') this.probing = false;
    this.failures = 0;
    // Any answer proves the upstream is back, even one admitted before the breaker opened.
    if (this.current !== 'closed') this.move('closed');
  }

  failed(a: Admission): void {
    if (a.kind === 'reject' || this.opts.threshold <= 0) return;
    if (a.kind === 'probe') {
      this.probing = false;
      this.open();
      return;
    }
    // Stragglers admitted before the breaker opened say nothing new.
    if (this.current !== 'closed') return;
    this.failures++;
    if (this.failures >= this.opts.threshold) this.open();
  }

  /** The exchange ended without a verdict (cancelled by its caller). */
  abandoned(a: Admission): void {
    if (a.kind === 'probe') this.probing = false;
  }

  private open(): void {
    this.openedAt = this.opts.now();
    this.failures = 0;
    this.move('open');
  }

  private move(to: BreakerState): void {
    if (this.current === to) return;
    this.current = to;
    this.opts.onChange?.(to);
  }
}
