/** How often each blob was fetched from the upstream, from a counting proxy's request records. */
import type { ProxyRecord } from '../test/support/proxy.js';

export interface FetchStats {
  /** GETs per expected digest. */
  perBlob: Map<string, number>;
  min: number;
  max: number;
  mean: number;
  /** Upstream requests of any kind (manifests, HEADs, ...). */
  totalRequests: number;
}

const BLOB_GET = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})(?:\?.*)?$/;

export function blobFetchStats(records: readonly ProxyRecord[], digests: readonly string[]): FetchStats {
  const perBlob = new Map<string, number>(digests.map((d) => [d, 0]));
  for (const r of records) {
    if (r.method !== 'GET') continue;
    const d = BLOB_GET.exec(r.path)?.[1];
    if (d !== undefined && perBlob.has(d)) perBlob.set(d, (perBlob.get(d) ?? 0) + 1);
  }
  const counts = [...perBlob.values()];
  const sum = counts.reduce((a, b) => a + b, 0);
  return {
    perBlob,
    min: counts.length ? Math.min(...counts) : 0,
    max: counts.length ? Math.max(...counts) : 0,
    mean: counts.length ? sum / counts.length : 0,
    totalRequests: records.length,
  };
}
