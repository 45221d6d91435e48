import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noProxyEnv, run } from './proc.js';
import { makeTempDir, type TempDir } from './tempdir.js';

export const SKOPEO_BIN = process.env.BERTH_TEST_SKOPEO_BIN ?? '/usr/bin/skopeo';

export interface SkopeoResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface SkopeoCopyOptions {
  /** Default false: skopeo tries HTTPS first, then falls back to plain HTTP. */
  srcTlsVerify?: boolean;
  /** `user:password` */
  srcCreds?: string;
  srcCertDir?: string;
  destTlsVerify?: boolean;
  /** Copy every platform of an index (`--all`). */
  all?: boolean;
  overrideArch?: string;
  /** Default 0 (no retries, so faults surface). */
  retryTimes?: number;
  timeoutMs?: number;
  extraArgs?: string[];
}

/**
 * A hermetic skopeo environment: empty auth file, permissive policy, no registries.conf
 * from the host, proxy variables emptied.
 */
async function sandbox(): Promise<{ tmp: TempDir; globalArgs: string[]; env: NodeJS.ProcessEnv; authfile: string }> {
  const tmp = await makeTempDir('skopeo');
  const authfile = join(tmp.path, 'auth.json');
  const policy = join(tmp.path, 'policy.json');
  const registriesConf = join(tmp.path, 'registries.conf');
  await writeFile(authfile, '{"auths":{}}\n');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(registriesConf, 'unqualified-search-registries = []\n');
  const env = noProxyEnv({
    REGISTRY_AUTH_FILE: authfile,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
    CONTAINERS_CONF: join(tmp.path, 'containers.conf'),
    XDG_RUNTIME_DIR: tmp.path,
    XDG_CONFIG_HOME: tmp.path,
    TMPDIR: tmp.path,
  });
  const globalArgs = ['--policy', policy, '--registries.d', tmp.path];
  return { tmp, globalArgs, env, authfile };
}

async function skopeo(args: (authfile: string) => string[], timeoutMs: number): Promise<SkopeoResult> {
  const sb = await sandbox();
  try {
    const r = await run(SKOPEO_BIN, [...sb.globalArgs, ...args(sb.authfile)], { env: sb.env, timeoutMs });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
  } finally {
    await sb.tmp.close();
  }
}

/** `skopeo copy SRC DEST`, e.g. `docker://127.0.0.1:PORT/test/oci:1.0` to `dir:/tmp/x`. */
export function skopeoCopy(src: string, dest: string, opts: SkopeoCopyOptions = {}): Promise<SkopeoResult> {
  return skopeo((authfile) => {
    const a = ['copy', '--authfile', authfile, '--retry-times', String(opts.retryTimes ?? 0)];
    a.push(`--src-tls-verify=${opts.srcTlsVerify ?? false}`, `--dest-tls-verify=${opts.destTlsVerify ?? false}`);
    if (opts.srcCreds !== undefined) a.push('--src-creds', opts.srcCreds);
    else a.push('--src-no-creds');
    if (opts.srcCertDir !== undefined) a.push('--src-cert-dir', opts.srcCertDir);
    if (opts.all) a.push('--all');
    if (opts.overrideArch !== undefined) a.unshift('--override-arch', opts.overrideArch);
    return [...a, ...(opts.extraArgs ?? []), src, dest];
  }, opts.timeoutMs ?? 120_000);
}

export interface SkopeoInspectOptions {
  tlsVerify?: boolean;
  creds?: string;
  timeoutMs?: number;
}

/** `skopeo inspect --raw REF`: stdout is the manifest bytes exactly as served. */
export function skopeoInspectRaw(ref: string, opts: SkopeoInspectOptions = {}): Promise<SkopeoResult> {
  return skopeo((authfile) => {
    const a = ['inspect', '--raw', '--authfile', authfile, '--retry-times', '0', `--tls-verify=${opts.tlsVerify ?? false}`];
    if (opts.creds !== undefined) a.push('--creds', opts.creds);
    else a.push('--no-creds');
    return [...a, ref];
  }, opts.timeoutMs ?? 60_000);
}

/** `sha256:` digest of `dir/manifest.json` as written by `skopeo copy … dir:DIR`. */
export async function digestOfDir(dir: string): Promise<string> {
  const bytes = await readFile(join(dir, 'manifest.json'));
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
