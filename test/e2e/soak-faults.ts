/**
 * The soak's upstream weather: a share of upstream requests reset, stall, answer 5xx, drop
 * the connection or carry a flipped byte. Each kind gets an equal part of the rate.
 */
import type { Fault, FaultProxy } from '../support/proxy.js';

const KiB = 1024;

const BLOB_FAULTS: ReadonlyArray<Omit<Fault, 'path' | 'chance'>> = [
  { resetAfterBytes: 0 },
  { resetAfterBytes: 32 * KiB },
  { resetAfterBytes: 400 * KiB },
  { stallAfterBytes: 64 * KiB },
  { corrupt: 100 },
  { corrupt: 200 * KiB },
  { status: 500 },
  { status: 502 },
  { status: 503 },
  { drop: true },
];

const MANIFEST_FAULTS: ReadonlyArray<Omit<Fault, 'path' | 'chance'>> = [
  { status: 500 },
  { status: 503 },
  { resetAfterBytes: 10 },
  { stallAfterBytes: 0 },
  { corrupt: 50 },
  { drop: true },
];

const BLOB_GET = /\/blobs\/sha256:/;
const MANIFEST = /\/manifests\//;

/** Installs the faults on the proxy: about `rate` of blob and of manifest requests are hit. */
export function injectFaults(proxy: FaultProxy, rate: number): void {
  // Independent draws per kind: 1 - (1 - rate/n)^n ≈ rate.
  for (const f of BLOB_FAULTS) proxy.fault({ ...f, method: 'GET', path: BLOB_GET, chance: rate / BLOB_FAULTS.length });
  for (const f of MANIFEST_FAULTS) proxy.fault({ ...f, path: MANIFEST, chance: rate / MANIFEST_FAULTS.length });
}

/** Upstream requests from the `from`-th on that carried a fault, by kind (e.g. `status`, `resetAfterBytes`). */
export function faultsApplied(proxy: FaultProxy, from: number, to: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of proxy.requests.slice(from, to)) if (r.fault !== undefined) out[r.fault] = (out[r.fault] ?? 0) + 1;
  return out;
}

/** How many upstream requests in [from, to) a fault could have hit. */
export function faultable(proxy: FaultProxy, from: number, to: number): number {
  return proxy.requests.slice(from, to).filter((r) => (r.method === 'GET' && BLOB_GET.test(r.path)) || MANIFEST.test(r.path)).length;
}
