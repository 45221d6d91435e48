/**
 * Whether an upstream answers at all: a cheap `GET /v2/` (any HTTP answer, 401 included, counts
 * as reachable), remembered for a while so that readiness polls do not hammer registries.
 */
import type { Dispatcher } from 'undici';
import { causeOfError } from './error-cause.js';

export interface Reachability {
  readonly state: 'reachable' | 'unreachable' | 'offline' | 'unknown';
  /** HTTP status of the probe, when one came. */
  readonly status?: number;
  /** Why a probe failed: the cause's kind and message (`refused: connect ECONNREFUSED …`). */
  readonly error?: string;
  readonly checkedAt?: string;
}

export interface ProbeOptions {
  /** The upstream's base URL (may carry a path prefix). */
  readonly url: string;
  readonly offline: boolean;
  readonly dispatcher: Dispatcher;
  /** A probe result is reused for this long. */
  readonly ttlMs: number;
  readonly timeoutMs: number;
  readonly now: () => number;
}

export class UpstreamProbe {
  private last?: { readonly result: Reachability; readonly at: number };
  private running?: Promise<Reachability>;

  constructor(private readonly opts: ProbeOptions) {}

  /** The latest result; a fresh probe is awaited for at most `waitMs` when the last one is old. */
  async state(waitMs: number): Promise<Reachability> {
    if (this.opts.offline) return { state: 'offline' };
    const last = this.last;
    if (last && this.opts.now() - last.at < this.opts.ttlMs) return last.result;
    this.running ??= this.probe().finally(() => {
      this.running = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), waitMs);
    });
    const fresh = await Promise.race([this.running, waited]);
    clearTimeout(timer);
    return fresh ?? last?.result ?? { state: 'unknown' };
  }

  private async probe(): Promise<Reachability> {
    const url = new URL(`${this.opts.url.replace(/\/+$/, '')}/v2/`);
    let result: Reachability;
    try {
      const res = await this.opts.dispatcher.request({
        origin: url.origin,
        path: url.pathname,
        method: 'GET',
        headers: { 'user-agent': 'berth' },
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.body.dump();
      result = { state: res.statusCode < 500 ? 'reachable' : 'unreachable', status: res.statusCode, checkedAt: new Date(this.opts.now()).toISOString() };
    } catch (err) {
      const cause = causeOfError(err);
      result = { state: 'unreachable', error: `${cause.kind}: ${cause.message}`, checkedAt: new Date(this.opts.now()).toISOString() };
    }
    this.last = { result, at: this.opts.now() };
    return result;
  }
}
