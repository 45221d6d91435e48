/**
 * A throw-away single-node Ceph cluster on 127.0.0.1 with a RADOS Gateway (S3): one mon, one
 * OSD on memstore (RAM), radosgw with the beast frontend, one S3 user. No systemd, no cephx,
 * no mgr. Every daemon runs in the foreground as our child; close() kills them by PID and
 * removes the directory. Debian bookworm packages ceph-mon, ceph-osd, radosgw, ceph-common.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { freePort } from './ports.js';
import { run, runOk, spawnDaemon, type Daemon } from './proc.js';
import { makeTempDir } from './tempdir.js';

export interface Ceph {
  /** S3 endpoint of the gateway, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly dir: string;
  close(): Promise<void>;
}

export interface CephOptions {
  /** RAM the OSD may hold (memstore), default 4 GiB; a full OSD makes writes hang. */
  readonly memBytes?: number;
}

function confText(dir: string, fsid: string, monPort: number, rgwPort: number, memBytes: number): string {
  return `[global]
fsid = ${fsid}
mon host = [v1:127.0.0.1:${monPort}]
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
paxos propose interval = 0.01
paxos min wait = 0.001
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
ms bind ipv6 = false
run dir = ${dir}/run
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
osd objectstore = memstore
memstore device bytes = ${memBytes}
[mon.a]
mon data = ${dir}/mon
[osd.0]
osd data = ${dir}/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
rgw enable usage log = false
rgw dns name = 127.0.0.1
`;
}

async function waitForGateway(url: string, daemons: readonly Daemon[], deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let exited: Daemon | undefined;
  for (const d of daemons) void d.exited.then(() => (exited ??= d));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`ceph daemon exited during start-up:\n${exited.output()}`);
    try {
      const res = await request(url, { method: 'GET', reset: true, headersTimeout: 2_000, bodyTimeout: 2_000 });
      await res.body.dump();
      if (res.statusCode < 500) return;
    } catch {
      // Not listening yet.
    }
    await delay(50);
  }
  throw new Error(`radosgw at ${url} did not answer within ${deadlineMs} ms`);
}

/** The tail of each daemon's log, for a start-up failure's message. */
async function readLogs(dir: string): Promise<string> {
  const names = await readdir(join(dir, 'log')).catch(() => [] as string[]);
  const parts = await Promise.all(names.map(async (n) => `--- ${n}\n${(await readFile(join(dir, 'log', n), 'utf8').catch(() => '')).slice(-3_000)}`));
  return parts.join('\n');
}

/** Start attempts: under load an OSD now and then refuses to boot ('wrong fsid') for no reason of ours. */
const ATTEMPTS = 4;

/** Starts the cluster; a failed start (a port taken meanwhile, an OSD that would not boot) is retried on fresh ports. */
export async function startCeph(opts: CephOptions = {}): Promise<Ceph> {
  const failures: string[] = [];
  for (let i = 0; i < ATTEMPTS; i++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      failures.push(String(err));
    }
  }
  throw new Error(`ceph did not start in ${ATTEMPTS} attempts:\n${failures.join('\n---\n')}`);
}

async function startOnce(opts: CephOptions): Promise<Ceph> {
  const tmp = await makeTempDir('ceph');
  const dir = tmp.path;
  const daemons: Daemon[] = [];
  const close = async (): Promise<void> => {
    for (const d of daemons) d.child.kill('SIGKILL');
    await Promise.all(daemons.map((d) => d.exited));
    await tmp.close();
  };
  try {
    for (const d of ['run', 'log', 'mon', 'osd', 'rgw']) await mkdir(join(dir, d), { recursive: true });
    const fsid = randomUUID();
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const conf = join(dir, 'ceph.conf');
    await writeFile(conf, confText(dir, fsid, monPort, rgwPort, opts.memBytes ?? 4 * 1024 ** 3));
    const c = ['-c', conf];
    await runOk('monmaptool', ['--create', '--clobber', '--fsid', fsid, '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, join(dir, 'monmap'), ...c]);
    await runOk('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
    daemons.push(spawnDaemon('ceph-mon', [...c, '-f', '-i', 'a']));
    await runOk('ceph', [...c, '--connect-timeout', '20', 'osd', 'create'], { timeoutMs: 30_000 });
    await runOk('ceph-osd', [...c, '-i', '0', '--mkfs'], { timeoutMs: 30_000 });
    daemons.push(spawnDaemon('ceph-osd', [...c, '-f', '-i', '0']));
    daemons.push(spawnDaemon('radosgw', [...c, '-f', '-n', 'client.rgw']));
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitForGateway(endpoint, daemons, 60_000);
    const accessKeyId = `AK${randomUUID().replace(/-/g, '').slice(0, 18).toUpperCase()}`;
    const secretAccessKey = randomUUID().replace(/-/g, '');
    const created = await run('radosgw-admin', [...c, 'user', 'create', '--uid=berth', '--display-name=berth', `--access-key=${accessKeyId}`, `--secret=${secretAccessKey}`], { timeoutMs: 30_000 });
    if (created.code !== 0) throw new Error(`radosgw-admin user create failed: ${created.stderr}`);
    return { endpoint, accessKeyId, secretAccessKey, region: 'us-east-1', dir, close };
  } catch (err) {
    const logs = await readLogs(dir);
    await close();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`);
  }
}
