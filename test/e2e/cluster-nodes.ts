/** berth nodes as separate processes on one bucket and one Redis, for the cluster tests and bench. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ceph } from '../support/ceph.js';
import { noProxyEnv } from '../support/proc.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'dist', 'src', 'main.js');

export interface Node {
  readonly child: ChildProcess;
  readonly url: string;
  /** host:port, for docker:// references. */
  readonly host: string;
  /** The peer listener (cluster.peerListen), when the node streams fills to its peers. */
  readonly peerUrl?: string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeConfig {
  readonly dir: string;
  readonly upstream: string;
  readonly ceph: Ceph;
  readonly bucket: string;
  /** Absent: object storage without cluster coordination (one node). */
  readonly redisUrl?: string;
  readonly leaseTtl?: string;
  readonly tagTtl?: string;
  /** storage.localCache, e.g. `{ path: /x, maxSize: 1GiB }`. */
  readonly localCache?: string;
  /** storage.maxSize, e.g. `300MiB`: the bucket's cap. */
  readonly maxSize?: string;
  readonly pins?: readonly string[];
  /** Serve running fills to the other nodes on a loopback peer listener with this secret. */
  readonly peerSecret?: string;
}

export async function writeNodeConfig(name: string, c: NodeConfig): Promise<string> {
  const dir = join(c.dir, name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'berth.yaml');
  const yaml = [
    'listen: 127.0.0.1:0',
    'storage:',
    `  path: ${JSON.stringify(join(dir, 'data'))}`,
    '  fsync: false',
    '  backend: s3',
    '  s3:',
    `    bucket: ${c.bucket}`,
    `    endpoint: ${JSON.stringify(c.ceph.endpoint)}`,
    `    region: ${c.ceph.region}`,
    `    accessKeyId: ${JSON.stringify(c.ceph.accessKeyId)}`,
    `    secretAccessKey: ${JSON.stringify(c.ceph.secretAccessKey)}`,
    '    partSize: 5MiB',
    ...(c.localCache ? [`  localCache: ${c.localCache}`] : []),
    ...(c.maxSize ? [`  maxSize: ${c.maxSize}`] : []),
    ...(c.pins?.length ? ['pins:', ...c.pins.map((p) => `  - ${JSON.stringify(p)}`)] : []),
    ...(c.redisUrl ? ['cluster:', `  redis: ${JSON.stringify(c.redisUrl)}`, `  leaseTtl: ${c.leaseTtl ?? '2s'}`] : []),
    ...(c.redisUrl && c.peerSecret ? ['  peerListen: 127.0.0.1:0', `  peerSecret: ${JSON.stringify(c.peerSecret)}`] : []),
    'log:',
    '  level: info',
    'upstreams:',
    '  docker.io:',
    `    url: ${JSON.stringify(c.upstream)}`,
    `    tagTtl: ${c.tagTtl ?? '5m'}`,
    '    retries: 0',
    '',
  ].join('\n');
  await writeFile(file, yaml);
  return file;
}

/** Spawns `berth serve --config FILE`; ready when it logs its URL. */
export async function spawnNode(configFile: string): Promise<Node> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configFile], {
    cwd: ROOT,
    env: noProxyEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout! });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8_000)));
  const exited = once(child, 'exit');
  const { url, peerUrl } = await new Promise<{ url: string; peerUrl?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth did not start: ${log}`)), 30_000);
    lines.on('line', (line) => {
      log = (log + line + '\n').slice(-8_000);
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string; peerUrl?: string };
        if (rec.msg === 'listening' && rec.url) {
          clearTimeout(timer);
          resolve({ url: rec.url, ...(rec.peerUrl ? { peerUrl: rec.peerUrl } : {}) });
        }
      } catch {
        // Not a log line.
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`berth exited ${code}: ${log}`));
    });
  });
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return { child, url, host: new URL(url).host, ...(peerUrl ? { peerUrl } : {}), kill9: () => kill('SIGKILL'), stop: () => kill('SIGTERM') };
}
