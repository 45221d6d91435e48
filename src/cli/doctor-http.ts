/** The HTTP side of `berth doctor`: one request at a time, failures classified as values. */
import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';

export type Answer =
  | { readonly kind: 'response'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: Buffer }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

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
      return { kind: 'error', ...classify(err) };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function classify(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = [e.code, e.cause?.code, e.name].find((c): c is string => typeof c === 'string') ?? 'ERROR';
  const message = [e.cause?.message, e.message].find((m): m is string => typeof m === 'string') ?? 'request failed';
  return { code, message: message.split('\n')[0] ?? message };
}

/** A human reading of a connection failure. */
export function describeFailure(code: string, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens at this address';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'TimeoutError':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'no answer in time';
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
      return 'the connection was closed without an answer (plain HTTP to a TLS port?)';
    default:
      if (/SSL|TLS|CERT|EPROTO/i.test(code)) return `TLS failed (${message}); for a self-signed berth pass --ca-cert FILE`;
      return `${code}: ${message}`;
  }
}
