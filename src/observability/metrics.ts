/** Every metric berth exports, in one registry. Labels are bounded: never a repository or digest. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

export type CacheResult = 'hit' | 'miss' | 'stale' | 'coalesced';

export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

/** What /metrics and the status page show: this process's metrics, or every worker's summed. */
export interface MetricsView {
  json(): Promise<MetricsJson>;
  text(): Promise<string>;
}

export interface Metrics {
  readonly registry: Registry;
  readonly view: MetricsView;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  readonly cacheRequests: Counter<'kind' | 'result'>;
  readonly servedBytes: Counter<'source'>;
  readonly upstreamRequests: Counter<'upstream' | 'kind' | 'status'>;
  readonly upstreamDuration: Histogram<'upstream' | 'kind'>;
  readonly upstreamBytes: Counter<'upstream'>;
  readonly rateLimitRemaining: Gauge<'upstream'>;
  readonly rateLimitLimit: Gauge<'upstream'>;
  /** Per pool member; `credential` is its configured name (`default`, `anonymous`), never a secret. */
  readonly credentialRemaining: Gauge<'upstream' | 'credential'>;
  readonly quotaBelowFloor: Gauge<'upstream'>;
  readonly tokenFetches: Counter<'upstream' | 'result'>;
  readonly fillsInProgress: Gauge;
  readonly fillResults: Counter<'result'>;
  readonly fillResumes: Counter;
  readonly fillConnections: Histogram<'upstream'>;
  readonly cacheSize: Gauge;
  readonly evictions: Counter;
  readonly storageWriteErrors: Counter;
  readonly staleServed: Counter<'upstream' | 'reason'>;
  readonly tlsReloads: Counter<'result'>;
  readonly tlsCertExpiry: Gauge;
  readonly breakerState: Gauge<'upstream'>;
  readonly clusterFillClaims: Counter<'result'>;
  readonly clusterTagLookups: Counter<'result'>;
  readonly objectStorageErrors: Counter<'op'>;
  readonly localCacheRequests: Counter<'result'>;
}

export function createMetrics(withProcessMetrics = true): Metrics {
  const registry = new Registry();
  if (withProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'berth_' });
  const registers = [registry];
  return {
    registry,
    view: { json: async () => (await registry.getMetricsAsJSON()) as MetricsJson, text: () => registry.metrics() },
    httpRequests: new Counter({ name: 'berth_http_requests_total', help: 'Client requests by route, method and status.', labelNames: ['route', 'method', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'berth_http_request_duration_seconds',
      help: 'Time to answer a client request (until the body is sent).',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    cacheRequests: new Counter({ name: 'berth_cache_requests_total', help: 'Cache lookups by kind (blob, manifest, tag) and result (hit, miss, stale, coalesced).', labelNames: ['kind', 'result'], registers }),
    servedBytes: new Counter({ name: 'berth_served_bytes_total', help: 'Body bytes sent to clients by source (cache, upstream).', labelNames: ['source'], registers }),
    upstreamRequests: new Counter({ name: 'berth_upstream_requests_total', help: 'Requests sent upstream by kind and status (or error).', labelNames: ['upstream', 'kind', 'status'], registers }),
    upstreamDuration: new Histogram({
      name: 'berth_upstream_request_duration_seconds',
      help: 'Time to upstream response headers.',
      labelNames: ['upstream', 'kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    upstreamBytes: new Counter({ name: 'berth_upstream_bytes_total', help: 'Blob bytes received from upstreams.', labelNames: ['upstream'], registers }),
    rateLimitRemaining: new Gauge({ name: 'berth_upstream_ratelimit_remaining', help: 'Latest ratelimit-remaining an upstream reported.', labelNames: ['upstream'], aggregator: 'min', registers }),
    rateLimitLimit: new Gauge({ name: 'berth_upstream_ratelimit_limit', help: 'Latest ratelimit-limit an upstream reported.', labelNames: ['upstream'], aggregator: 'max', registers }),
    credentialRemaining: new Gauge({ name: 'berth_upstream_credential_ratelimit_remaining', help: 'Latest ratelimit-remaining seen for each credential of an upstream (by configured name).', labelNames: ['upstream', 'credential'], aggregator: 'min', registers }),
    quotaBelowFloor: new Gauge({ name: 'berth_upstream_quota_below_floor', help: '1 while the best credential of an upstream has fewer pulls left than its quotaFloor (cached tags are then not revalidated).', labelNames: ['upstream'], aggregator: 'max', registers }),
    tokenFetches: new Counter({ name: 'berth_upstream_token_fetches_total', help: 'Bearer token requests to upstream realms.', labelNames: ['upstream', 'result'], registers }),
    fillsInProgress: new Gauge({ name: 'berth_fills_in_progress', help: 'Blob fills from upstreams running now.', registers }),
    fillResults: new Counter({ name: 'berth_fills_total', help: 'Finished blob fills by result (committed, failed, uncached).', labelNames: ['result'], registers }),
    fillResumes: new Counter({ name: 'berth_fill_resumes_total', help: 'Broken upstream bodies resumed with a Range request.', registers }),
    fillConnections: new Histogram({ name: 'berth_fill_connections', help: 'Upstream connections each blob fill used: 1 for one stream, more for a fill fetched as parallel ranges.', labelNames: ['upstream'], buckets: [1, 2, 4, 8, 16], registers }),
    cacheSize: new Gauge({ name: 'berth_cache_size_bytes', help: 'Bytes of committed content in the store.', registers }),
    evictions: new Counter({ name: 'berth_cache_evictions_total', help: 'Blobs evicted to stay under the size cap.', registers }),
    storageWriteErrors: new Counter({ name: 'berth_storage_write_errors_total', help: 'Writes to the store that failed (disk full, read-only); content was passed through uncached.', registers }),
    clusterFillClaims: new Counter({ name: 'berth_cluster_fill_claims_total', help: 'Cluster fill claims by result: owner (this node fills), stored (another node filled it), peer (streamed from the filling node), unavailable (Redis down), timeout.', labelNames: ['result'], registers }),
    clusterTagLookups: new Counter({ name: 'berth_cluster_tag_lookups_total', help: 'Tag lookups that missed the shared index, by how they ended: resolve (this node asks upstream), found, notified (another node answered), gave_up (its resolve failed), timeout (waited out the lease), unavailable (Redis down).', labelNames: ['result'], registers }),
    objectStorageErrors: new Counter({ name: 'berth_object_storage_errors_total', help: 'Object storage requests that failed (other than not found), by operation.', labelNames: ['op'], registers }),
    localCacheRequests: new Counter({ name: 'berth_local_cache_requests_total', help: 'Blob reads through the local disk cache in front of object storage, by result (hit, miss).', labelNames: ['result'], registers }),
    breakerState: new Gauge({ name: 'berth_upstream_breaker_state', help: 'Circuit breaker per upstream: 0 closed, 1 half-open (probing), 2 open (not dialled).', labelNames: ['upstream'], aggregator: 'max', registers }),
    tlsReloads: new Counter({ name: 'berth_tls_reloads_total', help: 'TLS certificate reloads (SIGHUP or file change) by result (reloaded, unchanged, failed).', labelNames: ['result'], registers }),
    tlsCertExpiry: new Gauge({ name: 'berth_tls_certificate_expiry_timestamp_seconds', help: 'notAfter of the certificate being served, as a Unix time.', aggregator: 'min', registers }),
    staleServed: new Counter({ name: 'berth_stale_served_total', help: 'Tag answers served past their TTL, by reason (revalidating, upstream_error, ratelimited, offline, quota_floor).', labelNames: ['upstream', 'reason'], registers }),
  };
}
