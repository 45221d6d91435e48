import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';

export interface WaitHttpOptions {
  /** Statuses that count as ready (default: any status below 500). */
  okStatuses?: number[];
  deadlineMs?: number;
  intervalMs?: number;
  /** Resolves when waiting is pointless (e.g. the process exited); makes the wait fail early. */
  abortOn?: Promise<unknown>;
  describe?: () => string;
}

/**
 * Polls `url` with GET on a fresh connection until it answers with an accepted status,
 * or throws after the deadline. The interval only paces polling; readiness is the HTTP answer.
 */
export async function waitForHttp(url: string, opts: WaitHttpOptions = {}): Promise<number> {
  const deadline = Date.now() + (opts.deadlineMs ?? 15_000);
  let aborted = false;
  void opts.abortOn?.then(() => {
    aborted = true;
  });
  let lastError = '';
  while (Date.now() < deadline) {
    if (aborted) break;
    try {
      const res = await request(url, { method: 'GET', reset: true, headersTimeout: 2_000, bodyTimeout: 2_000 });
      await res.body.dump();
      const ok = opts.okStatuses ? opts.okStatuses.includes(res.statusCode) : res.statusCode < 500;
      if (ok) return res.statusCode;
      lastError = `status ${res.statusCode}`;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    await delay(opts.intervalMs ?? 25);
  }
  const why = aborted ? 'process exited' : 'deadline passed';
  throw new Error(`waitForHttp ${url}: ${why} (last: ${lastError}) ${opts.describe?.() ?? ''}`);
}
