/**
 * A minimal image puller: the manifest by tag, then every blob in parallel, each streamed
 * through sha256 and discarded, its digest and size checked. Nothing is buffered but the manifest.
 */
import { createHash } from 'node:crypto';
import { Agent, request, type Dispatcher } from 'undici';

export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export interface PullTarget {
  baseUrl: string;
  repo: string;
  tag: string;
  /** The manifest digest the tag must resolve to. */
  manifestDigest: string;
}

export interface PullResult {
  ms: number;
  bytes: number;
  blobs: number;
}

interface Descriptor {
  digest: string;
  size: number;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function blobsOf(manifest: Buffer): Descriptor[] {
  const m = JSON.parse(manifest.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[] };
  if (!m.config || !Array.isArray(m.layers)) throw new Error('not a single-image manifest');
  return [m.config, ...m.layers];
}

async function getManifest(t: PullTarget, dispatcher: Dispatcher, signal: AbortSignal): Promise<Buffer> {
  const res = await request(`${t.baseUrl}/v2/${t.repo}/manifests/${t.tag}`, { headers: { accept: MANIFEST_ACCEPT }, dispatcher, signal });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`manifest ${t.repo}:${t.tag}: HTTP ${res.statusCode} ${body.toString('utf8').slice(0, 200)}`);
  const digest = sha256(body);
  if (digest !== t.manifestDigest) throw new Error(`manifest digest ${digest}, expected ${t.manifestDigest}`);
  return body;
}

/** GETs one blob, hashing it on the fly; throws on a wrong status, size or digest. */
export async function fetchBlob(url: string, want: Descriptor, dispatcher: Dispatcher, signal: AbortSignal): Promise<number> {
  const res = await request(url, { dispatcher, signal, highWaterMark: 1 << 20 });
  if (res.statusCode !== 200) {
    const text = await res.body.text().catch(() => '');
    throw new Error(`blob ${want.digest}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  }
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    h.update(b);
    size += b.length;
  }
  const got = `sha256:${h.digest('hex')}`;
  if (size !== want.size || got !== want.digest) throw new Error(`blob ${want.digest}: got ${size} bytes with digest ${got}`);
  return size;
}

/** One client's pull over its own connection pool. */
export async function pullImage(t: PullTarget, signal: AbortSignal): Promise<PullResult> {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, headersTimeout: 120_000, bodyTimeout: 60_000 });
  const started = performance.now();
  try {
    const blobs = blobsOf(await getManifest(t, dispatcher, signal));
    const sizes = await Promise.all(blobs.map((b) => fetchBlob(`${t.baseUrl}/v2/${t.repo}/blobs/${b.digest}`, b, dispatcher, signal)));
    return { ms: performance.now() - started, bytes: sizes.reduce((a, b) => a + b, 0), blobs: blobs.length };
  } finally {
    await dispatcher.destroy();
  }
}
