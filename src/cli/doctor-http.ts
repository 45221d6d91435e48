/** The HTTP side of `berth doctor`: one request at a time, failures classified as values. */
import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';
import { causeOfError } from '../upstream/error-cause.js';
import type { Cause } from '../upstream/types.js';

export type Answer =
  | { readonly kind: 'response'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: Buffer }
  | { readonly kind: 'error'; readonly cause: Cause };

export interface ClientOptions {
  /** PEM file of a CA to trust (a self-signed berth). */
  readonly caFile?: string;
  /** Skip TLS certificate verification. */
  readonly insecure?: boolean;
  /** `user:password` for a berth with client auth. */
  readonly creds?: string;
  readonly timeoutMs: number;
}

export class DoctorClient {
  private readonly agent: Agent;
  private readonly auth?: string;

  constructor(private readonly opts: ClientOptions) {
    const ca = opts.caFile !== undefined ? readFileSync(opts.caFile) : undefined;
    this.agent = new Agent({
      connect: { timeout: opts.timeoutMs, ...(ca ? { ca } : {}), ...(opts.insecure ? { rejectUnauthorized: false } : {}) },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    if (opts.creds !== undefined) this.auth = `Basic ${Buffer.from(opts.creds, 'utf8').toString('base64')}`;
  }

  async get(url: URL, headers: Record<string, string> = {}): Promise<Answer> {
    try {
      const res: Dispatcher.ResponseData = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        headers: { 'user-agent': 'berth-doctor', ...(this.auth ? { authorization: this.auth } : {}), ...headers },
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      return { kind: 'response', status: res.statusCode, headers: flat, body };
    } catch (err) {
      const t = this.opts.timeoutMs;
      return { kind: 'error', cause: causeOfError(err, undefined, { connectMs: t, headersMs: t, idleMs: t }) };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** A human reading of a failure to reach berth itself. */
export function describeFailure(c: Cause): string {
  switch (c.kind) {
    case 'refused':
      return 'connection refused: nothing listens at this address';
    case 'dns':
      return `the host name does not resolve (${c.message})`;
    case 'timeout':
      return `no answer in time (${c.message})`;
    case 'reset':
      return 'the connection was closed without an answer (plain HTTP to a TLS port?)';
    case 'tls':
      return `TLS failed (${c.message}); for a self-signed berth pass --ca-cert FILE`;
    default:
      return `${c.kind}: ${c.message}`;
  }
}
