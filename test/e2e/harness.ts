/** Starts berth in-process on a free loopback port with a config file written for the test. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import { startBerth, type Berth } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';

export interface Mirror {
  readonly berth: Berth;
  readonly url: string;
  readonly dataDir: string;
  readonly configFile: string;
  /** Stops the daemon; keeps the data dir. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export interface MirrorOptions {
  /** YAML for the `upstreams:` block, or a docker.io URL shorthand. */
  readonly upstreams: string | Record<string, string>;
  readonly dataDir?: string;
  readonly extra?: string;
  /** YAML lines inside the `storage:` block, indented two spaces (e.g. `  maxSize: 60MiB\n`). */
  readonly storage?: string;
  /** Where the daemon logs; default silent. */
  readonly logger?: Logger;
}

function upstreamsYaml(u: MirrorOptions['upstreams']): string {
  if (typeof u === 'string') return u;
  return Object.entries(u)
    .map(([name, url]) => `  ${JSON.stringify(name)}:\n    url: ${JSON.stringify(url)}\n    tagTtl: 5m\n    retries: 0\n`)
    .join('');
}

export async function writeMirrorConfig(dir: string, dataDir: string, opts: MirrorOptions): Promise<string> {
  const file = join(dir, 'berth.yaml');
  const yaml = `listen: 127.0.0.1:0\nstorage:\n  path: ${JSON.stringify(dataDir)}\n  fsync: false\n${opts.storage ?? ''}log:\n  level: silent\nupstreams:\n${upstreamsYaml(opts.upstreams)}${opts.extra ?? ''}`;
  await writeFile(file, yaml);
  return file;
}

export async function startMirror(opts: MirrorOptions): Promise<Mirror> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
  const dataDir = opts.dataDir ?? join(dir, 'data');
  const configFile = await writeMirrorConfig(dir, dataDir, opts);
  const loaded = loadConfig({ file: configFile, env: {}, flags: {} });
  if (!loaded.ok) throw new Error(`config: ${loaded.errors.join('; ')}`);
  const berth = await startBerth(loaded.config, opts.logger ?? pino({ level: 'silent' }), { processMetrics: false });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await berth.close();
  };
  return {
    berth,
    url: berth.url,
    dataDir,
    configFile,
    stop,
    close: async () => {
      await stop();
      if (!opts.dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A counting fault proxy in front of an upstream, a temp dir, and a mirror whose docker.io goes through the proxy. */
export interface ProxiedMirror {
  readonly proxy: FaultProxy;
  readonly tmp: TempDir;
  readonly mirror: Mirror;
  /** Closes the mirror, then the proxy, then removes the temp dir. */
  close(): Promise<void>;
}

export async function startProxiedMirror(upstreamUrl: string, prefix: string): Promise<ProxiedMirror> {
  const proxy = await startFaultProxy(upstreamUrl);
  const tmp = await makeTempDir(prefix);
  const mirror = await startMirror({ upstreams: { 'docker.io': proxy.url }, dataDir: join(tmp.path, 'data') });
  return {
    proxy,
    tmp,
    mirror,
    close: async () => {
      await mirror.close();
      await proxy.close();
      await tmp.close();
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const agent = new Agent({ keepAliveTimeout: 1000 });

/**
 * One request to berth; the whole body read. The path is sent exactly as written (no URL
 * normalisation of `..` or `.`), so hostile paths reach the server as a client could send them.
 */
export async function call(url: string, opts: { method?: Dispatcher.HttpMethod; headers?: Record<string, string> } = {}): Promise<Reply> {
  const m = /^(https?:\/\/[^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new Error(`bad url ${url}`);
  const res = await agent.request({ origin: m[1]!, path: m[2] ?? '/', method: opts.method ?? 'GET', headers: opts.headers ?? {} });
  const body = Buffer.from(await res.body.arrayBuffer());
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers, body };
}

/** GETs a URL and reports whether the body arrived complete or the connection broke (status 0: before any header). */
export async function fetchOutcome(url: string): Promise<{ status: number; complete: boolean; bytes: number }> {
  const res = await request(url).catch(() => undefined);
  if (!res) return { status: 0, complete: false, bytes: 0 };
  let bytes = 0;
  try {
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    return { status: res.statusCode, complete: true, bytes };
  } catch {
    return { status: res.statusCode, complete: false, bytes };
  }
}

export function errorCode(r: Reply): string | undefined {
  try {
    const doc = JSON.parse(r.body.toString('utf8')) as { errors?: Array<{ code?: string }> };
    return doc.errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

export async function metricValue(m: Berth['metrics'], name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = m.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  let total = 0;
  for (const v of data.values) {
    const l = v.labels as Record<string, string | number>;
    if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) total += v.value;
  }
  return total;
}

export const ALL_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** What `docker pull` sends for a manifest. */
export const DOCKER_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
].join(', ');

/** What containerd (ctr, nerdctl, the kubelet) sends: the same types in another order, and a wildcard. */
export const CONTAINERD_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  '*/*',
].join(', ');
