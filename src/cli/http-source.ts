/**
 * An ImageSource over HTTP against a running berth: exactly the GETs a client pull makes
 * (manifest by tag with every manifest type accepted, child manifests, blobs), bodies hashed
 * and discarded. The daemon's single-flight fills, eviction and metrics see a client.
 */
import { pipeline } from 'node:stream/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { digestOf, parseDigest, type Digest } from '../oci/digest.js';
import { DigestCheck, checkingSink } from '../oci/digest-check.js';
import { KNOWN_MANIFEST_TYPES, OCI_INDEX } from '../oci/media-types.js';
import type { FetchedManifest, ImageSource, PrefetchTarget } from '../proxy/prefetch.js';
import { causeOfError, unreachable } from '../upstream/error-cause.js';
import { header, readLimited } from '../upstream/http-call.js';
import { failureOf } from '../upstream/status-failure.js';
import type { Outcome } from '../upstream/types.js';

const MAX_MANIFEST = 8 * 1024 * 1024;

export class HttpSource implements ImageSource {
  private readonly agent = new Agent({ connections: 8, headersTimeout: 600_000, bodyTimeout: 600_000 });

  constructor(
    private readonly baseUrl: string,
    /** `user:password` for a berth with client auth. */
    private readonly creds?: string,
  ) {}

  async manifest(t: PrefetchTarget, reference: string): Promise<Outcome<FetchedManifest>> {
    const res = await this.get(t, `manifests/${reference}`, { accept: KNOWN_MANIFEST_TYPES.join(', ') });
    if (res.kind !== 'found') return res;
    const r = res.value;
    if (r.statusCode !== 200) return failureOf(r);
    const bytes = await readLimited(r, MAX_MANIFEST).catch(() => undefined);
    if (!bytes) return unreachable('invalid', 'manifest too large or broken');
    const claimed = parseDigest(reference)?.value ?? header(r, 'docker-content-digest');
    const digest = digestOf(bytes, claimed !== undefined ? parseDigest(claimed)?.algorithm : undefined);
    if (claimed !== undefined && claimed !== digest.value) return unreachable('invalid', 'manifest does not match its digest');
    return { kind: 'found', value: { bytes, mediaType: header(r, 'content-type') ?? '', digest } };
  }

  async blob(t: PrefetchTarget, digest: Digest, size: number, onBytes: (n: number) => void): Promise<Outcome<{ readonly cached: boolean }>> {
    const res = await this.get(t, `blobs/${digest.value}`, {});
    if (res.kind !== 'found') return res;
    const r = res.value;
    if (r.statusCode !== 200) return failureOf(r);
    const check = new DigestCheck(digest, size >= 0 ? size : undefined);
    try {
      await pipeline(r.body, checkingSink(check, onBytes));
    } catch (err) {
      return { kind: 'unreachable', cause: causeOfError(err) };
    }
    if (!check.finish().ok) return unreachable('invalid', 'blob does not match its digest');
    return { kind: 'found', value: { cached: header(r, 'x-cache') === 'HIT' } };
  }

  /** GET /v2/<name>/referrers/<digest>: the daemon's cached (or upstream's) referrers list. */
  async referrers(t: PrefetchTarget, subject: Digest): Promise<Outcome<{ readonly bytes: Buffer }>> {
    const res = await this.get(t, `referrers/${subject.value}`, { accept: OCI_INDEX });
    if (res.kind !== 'found') return res;
    const r = res.value;
    if (r.statusCode !== 200) return failureOf(r);
    return { kind: 'found', value: { bytes: Buffer.from(await r.body.arrayBuffer()) } };
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async get(t: PrefetchTarget, tail: string, headers: Record<string, string>): Promise<Outcome<Dispatcher.ResponseData>> {
    const path = `/v2/${t.name}/${tail}${t.ns !== undefined ? `?ns=${encodeURIComponent(t.ns)}` : ''}`;
    const auth = this.creds !== undefined ? { authorization: `Basic ${Buffer.from(this.creds).toString('base64')}` } : {};
    try {
      const value = await request(new URL(path, this.baseUrl), { dispatcher: this.agent, headers: { ...headers, ...auth } });
      return { kind: 'found', value };
    } catch (err) {
      return { kind: 'unreachable', cause: causeOfError(err) };
    }
  }
}
