/**
 * The one mapping from a registry's non-success answer to a failure outcome: 404 absent,
 * 401/403 denied, 429 rate-limited, anything else unreachable; each with the status and the
 * registry's own error code from its JSON `errors` body.
 */
import type { Dispatcher } from 'undici';
import { causeFromDetail, describeCause } from './cause-detail.js';
import { causeOf, type Where } from './error-cause.js';
import { dump, header, readLimited } from './http-call.js';
import type { Failure } from './types.js';

/** Error bodies are small; a larger one is not read for its code. */
const ERROR_BODY_LIMIT = 16 * 1024;

export interface RegistryErrorEntry {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

/** The first entry of an OCI `errors` body, when the body is one. */
export function registryError(body: Buffer | undefined): RegistryErrorEntry | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown; detail?: unknown }> };
    const e = Array.isArray(doc.errors) ? doc.errors[0] : undefined;
    if (typeof e?.code !== 'string' || e.code === '') return undefined;
    return {
      code: e.code,
      ...(typeof e.message === 'string' && e.message !== '' ? { message: e.message } : {}),
      ...(e.detail !== undefined ? { detail: e.detail } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * `CODE: message`, and when the body came from a berth, the cause it reported for its own
 * upstream (`; cause refused: connect ECONNREFUSED … (upstream docker.io, host …)`).
 */
export function describeRegistryError(body: Buffer | undefined): string | undefined {
  const e = registryError(body);
  return e ? described(e) : undefined;
}

function described(e: RegistryErrorEntry): string {
  const behind = causeFromDetail(e.detail);
  return `${e.code}${e.message !== undefined ? `: ${e.message}` : ''}${behind ? `; cause ${describeCause(behind)}` : ''}`;
}

export function failureOfStatus(status: number, retryAfter: string | undefined, body: Buffer | undefined, where?: Where): Failure {
  if (status === 404) return { kind: 'absent' };
  const e = registryError(body);
  const text = `HTTP ${status}${e ? ` ${described(e)}` : ''}`;
  const cause = causeOf('status', text, where, { status, ...(e ? { code: e.code } : {}) });
  if (status === 401 || status === 403) return { kind: 'denied', status, cause };
  if (status === 429) return retryAfter !== undefined ? { kind: 'ratelimited', retryAfter, cause } : { kind: 'ratelimited', cause };
  return { kind: 'unreachable', cause };
}

/** Maps a non-success response to its failure, reading (at most a small) body for the error code. */
export async function failureOf(res: Dispatcher.ResponseData, where?: Where): Promise<Failure> {
  if (res.statusCode === 404) {
    await dump(res);
    return failureOfStatus(404, undefined, undefined, where);
  }
  const body = await readLimited(res, ERROR_BODY_LIMIT).catch(() => undefined);
  return failureOfStatus(res.statusCode, header(res, 'retry-after'), body, where);
}
