/** An Upstream over one registry's HTTP API: the read operations, each as an outcome value. */
import type { Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import type { Metrics } from '../observability/metrics.js';
import { UpstreamAuth } from './auth.js';
import type { Breaker } from './breaker.js';
import { poolFromConfig, type CredentialPool } from './credential-pool.js';
import { causeOf, causeOfError, type Where } from './error-cause.js';
import { dump, header, readLimited, type Call } from './http-call.js';
import type { RateLimit } from './ratelimit.js';
import { failureOf } from './status-failure.js';
import { Transport } from './transport.js';
import type { BlobBody, BlobHead, BlobRequest, Failure, ManifestBody, ManifestHead, Outcome, PassThroughBody, Upstream } from './types.js';

const MAX_MANIFEST = 8 * 1024 * 1024;

export interface ClientDeps {
  readonly config: UpstreamConfig;
  readonly metrics: Metrics;
  /** Shared dispatcher for other hosts: token realms and redirect targets. */
  readonly external: Dispatcher;
  readonly now: () => number;
  readonly onRateLimit?: (rl: RateLimit) => void;
  /** Fails requests fast while the upstream is known to be down. */
  readonly breaker?: Breaker;
  /** Whose credentials each request carries; default: built from the config, without events. */
  readonly pool?: CredentialPool;
}

/** A small body read whole; a broken or oversized one is a failure with its cause. */
async function readBody(res: Dispatcher.ResponseData, where: Where, what: string): Promise<Buffer | Failure> {
  try {
    const bytes = await readLimited(res, MAX_MANIFEST);
    return bytes ?? { kind: 'unreachable', cause: causeOf('invalid', `${what} larger than ${MAX_MANIFEST} bytes`, where) };
  } catch (err) {
    return { kind: 'unreachable', cause: causeOfError(err, where) };
  }
}

const isFailure = (r: Dispatcher.ResponseData | Buffer | Failure): r is Failure => 'kind' in r;

export class RegistryClient implements Upstream {
  readonly name: string;
  readonly host: string;
  readonly credentials: CredentialPool;
  private readonly transport: Transport;

  constructor(deps: ClientDeps) {
    const c = deps.config;
    this.name = c.name;
    this.credentials = deps.pool ?? poolFromConfig(c, deps.now);
    const auth = new UpstreamAuth({
      upstreamUrl: new URL(c.url),
      credentials: c.credentials,
      dispatcher: deps.external,
      timeoutMs: c.timeouts.headersMs,
      now: deps.now,
      onTokenFetch: (result) => deps.metrics.tokenFetches.inc({ upstream: c.name, result }),
    });
    this.transport = new Transport({ ...deps, auth, credentials: this.credentials });
    this.host = this.transport.where.host;
  }

  async headManifest(repository: string, reference: string, accept: string): Promise<Outcome<ManifestHead>> {
    const res = await this.expect(await this.transport.exchange({ kind: 'manifest_head', method: 'HEAD', repository, path: `/v2/${repository}/manifests/${reference}`, headers: { accept } }));
    if (isFailure(res)) return res;
    await dump(res);
    const digest = header(res, 'docker-content-digest');
    return {
      kind: 'found',
      value: { mediaType: header(res, 'content-type') ?? '', size: Number(header(res, 'content-length') ?? -1), ...(digest ? { digest } : {}) },
    };
  }

  /** A manifest GET is what Docker Hub counts as a pull: it goes out with the credential that has the most quota left. */
  async getManifest(repository: string, reference: string, accept: string): Promise<Outcome<ManifestBody>> {
    const lease = this.credentials.reserve();
    if (lease.kind === 'exhausted') {
      const cause = causeOf('quota', 'every configured credential is out of pulls', this.transport.where);
      return { kind: 'ratelimited', retryAfter: String(Math.ceil(lease.retryAfterMs / 1000)), cause };
    }
    const call = await this.transport
      .exchange({ kind: 'manifest_get', method: 'GET', repository, path: `/v2/${repository}/manifests/${reference}`, headers: { accept }, member: lease.member })
      .finally(() => lease.release());
    const res = await this.expect(call);
    if (isFailure(res)) return res;
    const bytes = await readBody(res, this.transport.where, 'manifest');
    if (isFailure(bytes)) return bytes;
    const digest = header(res, 'docker-content-digest');
    return { kind: 'found', value: { bytes, mediaType: header(res, 'content-type') ?? '', ...(digest ? { digest } : {}) } };
  }

  async statBlob(repository: string, digest: string): Promise<Outcome<BlobHead>> {
    const res = await this.expect(await this.transport.exchange({ kind: 'blob_head', method: 'HEAD', repository, path: `/v2/${repository}/blobs/${digest}`, headers: {} }));
    if (isFailure(res)) return res;
    await dump(res);
    return { kind: 'found', value: { size: Number(header(res, 'content-length') ?? -1) } };
  }

  async getBlob(repository: string, digest: string, req: BlobRequest): Promise<Outcome<BlobBody>> {
    const { from, to, signal, location } = req;
    const headers: Record<string, string> = to !== undefined ? { range: `bytes=${from}-${to - 1}` } : from > 0 ? { range: `bytes=${from}-` } : {};
    const call = location
      ? await this.transport.direct('blob_get', location, headers, signal)
      : await this.transport.exchange({ kind: 'blob_get', method: 'GET', repository, path: `/v2/${repository}/blobs/${digest}`, headers, ...(signal ? { signal } : {}) });
    const res = await this.expect(call, [200, 206]);
    if (isFailure(res)) return res;
    const where = call.kind === 'response' && call.location ? { location: call.location } : {};
    if (res.statusCode === 200) {
      const size = Number(header(res, 'content-length') ?? -1);
      return { kind: 'found', value: { size, start: 0, end: size, body: res.body, ...where } };
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(res, 'content-range') ?? '');
    if (!m) {
      await dump(res);
      return { kind: 'unreachable', cause: causeOf('invalid', 'upstream sent a 206 without a valid Content-Range', this.transport.where) };
    }
    return { kind: 'found', value: { size: Number(m[3]), start: Number(m[1]), end: Number(m[2]) + 1, body: res.body, ...where } };
  }

  async getJson(repository: string, pathAndQuery: string, accept = 'application/json'): Promise<Outcome<PassThroughBody>> {
    const res = await this.expect(await this.transport.exchange({ kind: 'json_get', method: 'GET', repository, path: `/v2/${repository}/${pathAndQuery}`, headers: { accept } }));
    if (isFailure(res)) return res;
    const bytes = await readBody(res, this.transport.where, 'body');
    if (isFailure(bytes)) return bytes;
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'link', 'oci-filters-applied']) {
      const v = header(res, name);
      if (v !== undefined) headers[name] = v;
    }
    return { kind: 'found', value: { status: 200, bytes, headers } };
  }

  /** The response when it is one of `ok`; otherwise the failure, with the body already released. */
  private async expect(call: Call, ok: readonly number[] = [200]): Promise<Dispatcher.ResponseData | Failure> {
    if (call.kind === 'error') return { kind: 'unreachable', cause: call.cause };
    if (ok.includes(call.res.statusCode)) return call.res;
    return failureOf(call.res, this.transport.where);
  }

  belowQuotaFloor(): boolean {
    return this.credentials.belowFloor();
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
