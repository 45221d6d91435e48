/**
 * The one classification of a failed exchange: an undici or Node error (DNS, refused, reset,
 * TLS, a timeout and which one) becomes a Cause, with a message scrubbed of credentials.
 */
import type { Cause, CauseKind, TimeoutPhase } from './types.js';

/** Which upstream a cause belongs to, by configured name and host (an `Upstream` is one). */
export interface Where {
  readonly name: string;
  readonly host: string;
}

/** The configured timeouts, so that a timeout message says how long was waited. */
export interface TimeoutLimits {
  readonly connectMs?: number;
  readonly headersMs?: number;
  readonly idleMs?: number;
}

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const NETWORK = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const TIMEOUT_CODES: Readonly<Record<string, TimeoutPhase>> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  ETIMEDOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'idle',
};
// X.509 verification failures carry OpenSSL's names, not an ERR_ prefix.
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;

/** The error and the errors it wraps (`cause`, AggregateError's `errors`), outermost first. */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const x = e as ErrorLike;
    out.push(x);
    const inner = Array.isArray(x.errors) ? (x.errors as unknown[])[0] : undefined;
    e = x.cause ?? inner;
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** One line, no userinfo or query string in any URL it quotes, bounded length. */
export function scrub(message: string): string {
  const line = message.split('\n')[0] ?? '';
  return line
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1')
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s?#]*)[?#]\S*/gi, '$1')
    .replace(/\b(Bearer|Basic)\s+\S+/gi, '$1 ***')
    .slice(0, 300);
}

function kindOf(codes: readonly string[], names: readonly string[]): { kind: CauseKind; timeout?: TimeoutPhase } {
  for (const c of codes) {
    const phase = TIMEOUT_CODES[c];
    if (phase) return { kind: 'timeout', timeout: phase };
    if (DNS.has(c)) return { kind: 'dns' };
    if (c === 'ECONNREFUSED') return { kind: 'refused' };
    if (TLS_CODE.test(c)) return { kind: 'tls' };
    if (RESET.has(c)) return { kind: 'reset' };
    if (NETWORK.has(c)) return { kind: 'network' };
  }
  if (names.includes('TimeoutError')) return { kind: 'timeout', timeout: 'total' };
  if (names.includes('AbortError') || codes.includes('UND_ERR_ABORTED')) return { kind: 'aborted' };
  return { kind: 'error' };
}

function tlsReason(message: string): string {
  // OpenSSL: "…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…"
  const m = /SSL routines:[^:]*:([^:]+)/.exec(message);
  return m?.[1] ?? message;
}

function timeoutMessage(phase: TimeoutPhase, limits: TimeoutLimits | undefined, fallback: string): string {
  const ms = phase === 'connect' ? limits?.connectMs : phase === 'headers' ? limits?.headersMs : phase === 'idle' ? limits?.idleMs : undefined;
  const what = phase === 'connect' ? 'no connection' : phase === 'headers' ? 'no response headers' : phase === 'idle' ? 'the body stalled' : 'the whole transfer took too long';
  return ms !== undefined ? `${what} within ${ms} ms` : `${what} (${fallback})`;
}

/** Classifies a thrown undici/Node error. */
export function causeOfError(err: unknown, where?: Where, limits?: TimeoutLimits): Cause {
  const links = chain(err);
  const codes = links.map((l) => str(l.code)).filter((c): c is string => c !== undefined);
  const names = links.map((l) => str(l.name)).filter((n): n is string => n !== undefined);
  const { kind, timeout } = kindOf(codes, names);
  // The innermost message is the system's own ("connect ECONNREFUSED 127.0.0.1:5999").
  const raw = links.map((l) => str(l.message)).filter((m): m is string => m !== undefined).at(-1) ?? 'request failed';
  const code = codes.find((c) => c.startsWith('E') || c.startsWith('ERR_') || TLS_CODE.test(c));
  let message = scrub(raw);
  if (kind === 'tls') message = scrub(`${code !== undefined ? `${code}: ` : ''}${tlsReason(raw)}`);
  if (kind === 'timeout' && timeout) message = timeoutMessage(timeout, limits, message);
  return causeOf(kind, message, where, timeout !== undefined ? { timeout } : {});
}

/** A cause from what berth itself found wrong (a bad digest, a broken range) or decided (offline). */
export function causeOf(kind: CauseKind, message: string, where?: Where, extra: Pick<Cause, 'timeout' | 'status' | 'code'> = {}): Cause {
  return { kind, message: scrub(message), ...extra, ...(where ? { upstream: where.name, host: where.host } : {}) };
}

/** The configured URL's host[:port]: `new URL` keeps userinfo out of `host`. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

/** A failure that is not the upstream's answer: berth found its answer wrong, or could not ask. */
export function unreachable(kind: CauseKind, message: string, where?: Where): { readonly kind: 'unreachable'; readonly cause: Cause } {
  return { kind: 'unreachable', cause: causeOf(kind, message, where) };
}
