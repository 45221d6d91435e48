import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { runOk, spawnDaemon, type Daemon } from './proc.js';
import { makeTempDir } from './tempdir.js';
import { waitForHttp } from './wait.js';

export const REGISTRY_BIN = process.env.BERTH_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface HtpasswdAuth {
  htpasswd: { username: string; password: string };
}
export interface TokenAuth {
  token: { realm: string; service: string; issuer: string; rootCertBundlePath: string };
}
export interface RegistryOptions {
  auth?: HtpasswdAuth | TokenAuth;
  /** Pull-through (proxy) mode: the upstream this registry mirrors. */
  proxyRemoteUrl?: string;
  proxyUsername?: string;
  proxyPassword?: string;
  /** Fixed port; default a free one. */
  port?: number;
  readyDeadlineMs?: number;
}

export interface Registry {
  url: string;
  port: number;
  dataDir: string;
  /** PID of the current process (-1 while stopped). */
  pid: number;
  /** Recent stdout+stderr of the registry process. */
  logs(): string;
  close(): Promise<void>;
  /** Kills the process but keeps the data directory. */
  stop(): Promise<void>;
  /** Starts again on the same port with the same data. */
  start(): Promise<void>;
}

/** Builds the distribution 2.8 config. JSON is valid YAML, so no YAML writer is needed. */
async function buildConfig(dir: string, dataDir: string, port: number, opts: RegistryOptions): Promise<object> {
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true }, formatter: 'text' },
    storage: {
      filesystem: { rootdirectory: dataDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
  };
  const auth = opts.auth;
  if (auth && 'htpasswd' in auth) {
    const path = join(dir, 'htpasswd');
    const { username, password } = auth.htpasswd;
    const r = await runOk('htpasswd', ['-nbB', username, password]);
    await writeFile(path, r.stdout.trim() + '\n');
    config.auth = { htpasswd: { realm: 'berth-test', path } };
  } else if (auth && 'token' in auth) {
    const t = auth.token;
    config.auth = {
      token: { realm: t.realm, service: t.service, issuer: t.issuer, rootcertbundle: t.rootCertBundlePath },
    };
  }
  if (opts.proxyRemoteUrl !== undefined) {
    const proxy: Record<string, string> = { remoteurl: opts.proxyRemoteUrl };
    if (opts.proxyUsername !== undefined) proxy.username = opts.proxyUsername;
    if (opts.proxyPassword !== undefined) proxy.password = opts.proxyPassword;
    config.proxy = proxy;
  }
  return config;
}

/**
 * Starts `docker-registry serve CONFIG` (CNCF distribution) on 127.0.0.1 with filesystem
 * storage in a temp dir. Resolves once GET /v2/ answers 200 or 401.
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const tmp = await makeTempDir('registry');
  const dataDir = join(tmp.path, 'data');
  const configPath = join(tmp.path, 'config.yml');
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let daemon: Daemon | undefined;
  try {
    const config = await buildConfig(tmp.path, dataDir, port, opts);
    await writeFile(configPath, JSON.stringify(config, null, 2));
  } catch (e) {
    await tmp.close();
    throw e;
  }

  const launch = async (): Promise<void> => {
    const d = spawnDaemon(REGISTRY_BIN, ['serve', configPath], { cwd: tmp.path });
    daemon = d;
    try {
      await waitForHttp(`${url}/v2/`, {
        okStatuses: [200, 401],
        deadlineMs: opts.readyDeadlineMs ?? 15_000,
        abortOn: d.exited,
        describe: () => `registry output:\n${d.output()}`,
      });
    } catch (e) {
      await d.stop(1_000);
      throw e;
    }
  };

  const reg: Registry = {
    url,
    port,
    dataDir,
    get pid(): number {
      return daemon && daemon.child.exitCode === null && daemon.child.signalCode === null ? daemon.pid : -1;
    },
    logs: () => daemon?.output() ?? '',
    async stop(): Promise<void> {
      await daemon?.stop();
    },
    async start(): Promise<void> {
      if (reg.pid !== -1) return;
      await launch();
    },
    async close(): Promise<void> {
      await daemon?.stop();
      await tmp.close();
    },
  };
  try {
    await launch();
  } catch (e) {
    await tmp.close();
    throw e;
  }
  return reg;
}
