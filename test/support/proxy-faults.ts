/** A fault the proxy applies to matching requests. One fault applies per request. */
export interface Fault {
  /** HTTP method to match (exact, case-insensitive); any when absent. */
  method?: string;
  /** Matched against path+query. */
  path: RegExp;
  /** Apply to the first N matching requests only, then pass through; forever when absent. */
  times?: number;
  /** Apply to a matching request with this probability (0..1), drawn from the set's random source; always when absent. */
  chance?: number;
  /** Answer with this status without forwarding. */
  status?: number;
  /** Headers of the `status` answer. */
  headers?: Record<string, string>;
  /** Body of the `status` answer; default a registry-style JSON error. */
  body?: string | Buffer;
  /** Forward headers and the first N body bytes, then close the connection mid-body. */
  resetAfterBytes?: number;
  /** Flip (XOR 0xff) the body byte at this offset; length unchanged. */
  corrupt?: number;
  /** Pace this response body to this rate. */
  throttleBytesPerSec?: number;
  /** Send headers and N body bytes, then send nothing more and keep the connection open. */
  stallAfterBytes?: number;
  /** Wait this long before forwarding (upstream latency). */
  delayMs?: number;
  /** Never answer (until the client gives up or the proxy closes). */
  hang?: boolean;
  /** Destroy the client connection without any answer. */
  drop?: boolean;
  /** Forward without the Range header, as an upstream that ignores ranges (answers 200, whole). */
  ignoreRange?: boolean;
}

export interface FaultHandle {
  readonly fault: Fault;
  /** How many requests this fault has been applied to. */
  readonly hits: number;
  remove(): void;
}

const CODES: Record<number, string> = {
  400: 'UNSUPPORTED',
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NAME_UNKNOWN',
  429: 'TOOMANYREQUESTS',
  500: 'UNKNOWN',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'UNAVAILABLE',
};

/** `{"errors":[{"code":…,"message":…}]}` as a registry would send it. */
export function registryErrorBody(status: number, message = 'injected by berth test proxy'): string {
  return JSON.stringify({ errors: [{ code: CODES[status] ?? 'UNKNOWN', message, detail: null }] });
}

/** A Docker-Hub-like 429 with Retry-After and ratelimit headers. */
export function rateLimitFault(path: RegExp, opts: { retryAfterSec?: number; times?: number; method?: string } = {}): Fault {
  const headers: Record<string, string> = {
    'ratelimit-limit': '100;w=21600',
    'ratelimit-remaining': '0;w=21600',
    'docker-ratelimit-source': '127.0.0.1',
  };
  if (opts.retryAfterSec !== undefined) headers['retry-after'] = String(opts.retryAfterSec);
  const f: Fault = { path, status: 429, headers };
  if (opts.times !== undefined) f.times = opts.times;
  if (opts.method !== undefined) f.method = opts.method;
  return f;
}

interface Entry {
  fault: Fault;
  hits: number;
}

/** Runtime-settable fault list. */
export class FaultSet {
  private entries: Entry[] = [];

  /** `random` decides `chance` faults; pass a seeded one to replay a run. */
  constructor(private readonly random: () => number = Math.random) {}

  add(fault: Fault): FaultHandle {
    const e: Entry = { fault, hits: 0 };
    this.entries.push(e);
    const remove = (): void => {
      this.entries = this.entries.filter((x) => x !== e);
    };
    return {
      fault,
      get hits(): number {
        return e.hits;
      },
      remove,
    };
  }

  clear(): void {
    this.entries = [];
  }

  get active(): Fault[] {
    return this.entries.map((e) => e.fault);
  }

  /** The first fault matching the request that still has uses left; counts the use. */
  take(method: string, path: string): Fault | undefined {
    for (const e of this.entries) {
      const f = e.fault;
      if (f.method !== undefined && f.method.toUpperCase() !== method.toUpperCase()) continue;
      f.path.lastIndex = 0;
      if (!f.path.test(path)) continue;
      if (f.times !== undefined && e.hits >= f.times) continue;
      if (f.chance !== undefined && !(this.random() < f.chance)) continue;
      e.hits++;
      return f;
    }
    return undefined;
  }
}

/** Short label for the request log. */
export function faultLabel(f: Fault): string {
  const keys = Object.keys(f).filter((k) => !['method', 'path', 'times', 'chance', 'headers', 'body'].includes(k));
  return keys.join('+');
}
