/**
 * `berth doctor URL [--image REF]`: do pulls through this address really reach berth, and does
 * berth cache them? Checks that URL/v2/ answers as berth (X-Berth-Version), then, with --image,
 * pulls the image's manifest twice and reads X-Cache: the second pull must be a hit.
 * Exit codes: 0 all good, 1 berth answered but a check failed, 3 not reaching berth.
 */
import type { Command } from 'commander';
import { digestOf } from '../oci/digest.js';
import { parseImageRef, referenceOf } from '../oci/image-ref.js';
import { describeRegistryError } from '../upstream/status-failure.js';
import { DoctorClient, describeFailure, type Answer } from './doctor-http.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_NOT_BERTH = 3;

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface DoctorOptions {
  readonly url: string;
  readonly image?: string;
  readonly creds?: string;
  readonly caFile?: string;
  readonly insecure?: boolean;
  readonly timeoutMs?: number;
}

type Write = (line: string) => void;

/**
 * The path berth serves REF's manifest at: the name as written, registry host included (berth
 * routes on it), then the tag or digest. `ghcr.io/org/app:v1` → `ghcr.io/org/app/manifests/v1`.
 */
export function manifestPath(ref: string): { ok: true; path: string } | { ok: false; error: string } {
  const parsed = parseImageRef(ref);
  if (!parsed.ok) return parsed;
  const { host, name } = parsed.ref;
  return { ok: true, path: `${host !== undefined ? `${host}/` : ''}${name}/manifests/${referenceOf(parsed.ref)}` };
}

/** The API base: origin plus any path before /v2 (a mirror location like host:5000/ghcr.io). */
function baseUrl(input: string): string | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin + url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
  } catch {
    return undefined;
  }
}

/** berth's OCI error, with the upstream failure's cause when berth reports one. */
function errorOf(a: Extract<Answer, { kind: 'response' }>): string {
  return describeRegistryError(a.body) ?? `HTTP ${a.status}`;
}

/** Step 1: is it berth? Returns an exit code when the run must stop here. */
function checkBase(a: Answer, where: string, write: Write): number | undefined {
  if (a.kind === 'error') {
    write(`FAIL  GET ${where}/v2/: ${describeFailure(a.cause)}`);
    write(`result: not reaching berth (${where})`);
    return EXIT_NOT_BERTH;
  }
  const version = a.headers['x-berth-version'];
  if (version === undefined) {
    const api = a.headers['docker-distribution-api-version'];
    const what = api !== undefined ? `a registry (${api}) that is not berth` : 'a server that is not a registry';
    write(`FAIL  GET ${where}/v2/: HTTP ${a.status} from ${what}; Server: ${a.headers['server'] ?? '-'}`);
    write(`result: not reaching berth: clients using ${where} pull from another server`);
    return EXIT_NOT_BERTH;
  }
  if (a.status === 401) {
    write(`FAIL  GET ${where}/v2/: berth ${version} asks for credentials (${errorOf(a)}); pass --creds USER:PASSWORD`);
    write('result: berth reached, not authenticated');
    return EXIT_CHECK_FAILED;
  }
  if (a.status !== 200) {
    write(`FAIL  GET ${where}/v2/: berth ${version} answered ${errorOf(a)}`);
    write('result: berth reached, API root failing');
    return EXIT_CHECK_FAILED;
  }
  write(`ok    GET ${where}/v2/: berth ${version} (${a.headers['docker-distribution-api-version'] ?? 'no API version header'})`);
  return undefined;
}

async function checkImage(client: DoctorClient, base: string, ref: string, write: Write): Promise<number> {
  const where = manifestPath(ref);
  if (!where.ok) {
    write(`FAIL  --image ${ref}: not an image reference (name[:tag] or name@digest): ${where.error}`);
    return EXIT_CHECK_FAILED;
  }
  const url = new URL(`${base}/v2/${where.path}`);
  const pulls: string[] = [];
  for (const n of [1, 2]) {
    const a = await client.get(url, { accept: ACCEPT });
    if (a.kind === 'error') {
      write(`FAIL  pull ${n} of ${ref}: ${describeFailure(a.cause)}`);
      return EXIT_CHECK_FAILED;
    }
    if (a.status !== 200) {
      write(`FAIL  pull ${n} of ${ref}: ${errorOf(a)}`);
      return EXIT_CHECK_FAILED;
    }
    const digest = a.headers['docker-content-digest'];
    const actual = digestOf(a.body).value;
    if (digest !== undefined && digest.startsWith('sha256:') && digest !== actual) {
      write(`FAIL  pull ${n} of ${ref}: body does not match Docker-Content-Digest ${digest}`);
      return EXIT_CHECK_FAILED;
    }
    if (n === 1) write(`ok    ${ref}: manifest ${digest ?? actual} (${a.headers['content-type'] ?? '?'}, ${a.body.length} bytes)`);
    pulls.push(a.headers['x-cache'] ?? 'none');
  }
  write(`ok    X-Cache: first pull ${pulls[0]}, second pull ${pulls[1]}`);
  const second = pulls[1];
  if (second === 'HIT' || second === 'STALE') {
    write(`result: hit: ${ref} is served from berth's cache`);
    return EXIT_OK;
  }
  write(`result: miss: the second pull was ${second}, so berth did not cache ${ref} (is its data directory writable?)`);
  return EXIT_CHECK_FAILED;
}

export async function runDoctor(opts: DoctorOptions, write: Write): Promise<number> {
  const base = baseUrl(opts.url);
  if (!base) {
    write(`FAIL  ${opts.url}: not an http:// or https:// URL`);
    return EXIT_CHECK_FAILED;
  }
  const client = new DoctorClient({
    timeoutMs: opts.timeoutMs ?? 30_000,
    ...(opts.caFile !== undefined ? { caFile: opts.caFile } : {}),
    ...(opts.insecure ? { insecure: true } : {}),
    ...(opts.creds !== undefined ? { creds: opts.creds } : {}),
  });
  try {
    const stop = checkBase(await client.get(new URL(`${base}/v2/`)), base, write);
    if (stop !== undefined) return stop;
    if (opts.image === undefined) {
      write('result: reaching berth (pass --image REF to check that pulls are cached)');
      return EXIT_OK;
    }
    return await checkImage(client, base, opts.image, write);
  } finally {
    await client.close();
  }
}

interface DoctorFlags {
  image?: string;
  creds?: string;
  caCert?: string;
  insecure?: boolean;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .argument('<url>', "the address clients use for berth, e.g. http://mirror.example.internal:5000")
    .description('check that pulls through URL reach berth and are cached (exit 0 ok, 1 a check failed, 3 not reaching berth)')
    .option('--image <ref>', 'pull this image\'s manifest twice and report the cache status, e.g. library/alpine:3.19')
    .option('--creds <user:password>', 'credentials for a berth with client auth')
    .option('--ca-cert <file>', 'PEM CA certificate to trust for an https URL')
    .option('--insecure', 'do not verify the TLS certificate')
    .action(async (url: string, flags: DoctorFlags) => {
      process.exitCode = await runDoctor(
        {
          url,
          ...(flags.image !== undefined ? { image: flags.image } : {}),
          ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
          ...(flags.caCert !== undefined ? { caFile: flags.caCert } : {}),
          ...(flags.insecure ? { insecure: true } : {}),
        },
        (line) => process.stdout.write(`${line}\n`),
      );
    });
}
