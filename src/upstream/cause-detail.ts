/**
 * A Cause on the wire and in words: the OCI error `detail` object and log fields berth sends
 * (`{"upstream","host","cause","message",…}`), read back by clients such as `berth doctor`.
 * The upstream's status and code are `upstreamStatus`/`upstreamCode`, apart from berth's own.
 */
import type { Cause, CauseKind, TimeoutPhase } from './types.js';

export type CauseDetail = Readonly<Record<string, string | number>>;

const KINDS: ReadonlySet<string> = new Set<CauseKind>(['dns', 'refused', 'reset', 'tls', 'timeout', 'network', 'status', 'circuit-open', 'offline', 'quota', 'invalid', 'aborted', 'error']);
const PHASES: ReadonlySet<string> = new Set<TimeoutPhase>(['connect', 'headers', 'idle', 'total']);

export function detailOf(c: Cause): CauseDetail {
  return {
    ...(c.upstream !== undefined ? { upstream: c.upstream } : {}),
    ...(c.host !== undefined ? { host: c.host } : {}),
    cause: c.kind,
    ...(c.timeout !== undefined ? { timeout: c.timeout } : {}),
    ...(c.status !== undefined ? { upstreamStatus: c.status } : {}),
    ...(c.code !== undefined ? { upstreamCode: c.code } : {}),
    message: c.message,
  };
}

/** The cause in an error's `detail`, when it carries one. */
export function causeFromDetail(detail: unknown): Cause | undefined {
  if (typeof detail !== 'object' || detail === null) return undefined;
  const d = detail as Record<string, unknown>;
  const s = (k: string): string | undefined => (typeof d[k] === 'string' ? d[k] : undefined);
  const kind = s('cause');
  const message = s('message');
  if (kind === undefined || !KINDS.has(kind) || message === undefined) return undefined;
  const timeout = s('timeout');
  const upstream = s('upstream');
  const host = s('host');
  const code = s('upstreamCode');
  return {
    kind: kind as CauseKind,
    message,
    ...(timeout !== undefined && PHASES.has(timeout) ? { timeout: timeout as TimeoutPhase } : {}),
    ...(typeof d.upstreamStatus === 'number' ? { status: d.upstreamStatus } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(upstream !== undefined ? { upstream } : {}),
    ...(host !== undefined ? { host } : {}),
  };
}

/** What went wrong in a few words: the client-facing error message names the kind this way. */
export function summary(c: Cause): string {
  switch (c.kind) {
    case 'dns':
      return 'its host name does not resolve';
    case 'refused':
      return 'connection refused';
    case 'reset':
      return 'connection reset';
    case 'tls':
      return 'TLS handshake failed';
    case 'timeout':
      return `timed out (${c.timeout ?? 'total'})`;
    case 'network':
      return 'network unreachable';
    case 'status':
      return `it answered ${c.status ?? '?'}${c.code !== undefined ? ` ${c.code}` : ''}`;
    case 'circuit-open':
      return 'circuit open after repeated failures';
    case 'offline':
      return 'configured offline';
    case 'quota':
      return 'every credential is out of pulls';
    case 'invalid':
      return 'its answer was invalid';
    case 'aborted':
      return 'request aborted';
    case 'error':
      return 'request failed';
  }
}

/** One line for a person: `refused: connect ECONNREFUSED 127.0.0.1:5999 (upstream docker.io, host registry-1.docker.io)`. */
export function describeCause(c: Cause): string {
  const where = c.upstream !== undefined ? ` (upstream ${c.upstream}${c.host !== undefined ? `, host ${c.host}` : ''})` : '';
  return `${c.kind}${c.timeout !== undefined ? ` ${c.timeout}` : ''}: ${c.message}${where}`;
}
