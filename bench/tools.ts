/** Installs the system tools the bench drives when they are missing (like test/run.sh does). */
import { access, constants } from 'node:fs/promises';
import { run } from '../test/support/proc.js';

/** Tool binary → Debian package. `ab` is ApacheBench: the tag-HEAD load generator. */
const TOOLS: Record<string, { paths: string[]; pkg: string }> = {
  ab: { paths: ['/usr/bin/ab'], pkg: 'apache2-utils' },
  nginx: { paths: ['/usr/sbin/nginx'], pkg: 'nginx-light' },
  'docker-registry': { paths: ['/usr/bin/docker-registry'], pkg: 'docker-registry' },
  curl: { paths: ['/usr/bin/curl'], pkg: 'curl' },
};

async function exists(p: string): Promise<boolean> {
  try {
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function ensureTools(): Promise<void> {
  const missing: string[] = [];
  for (const { paths, pkg } of Object.values(TOOLS)) {
    if (!(await Promise.all(paths.map(exists))).some(Boolean)) missing.push(pkg);
  }
  if (missing.length === 0) return;
  process.stderr.write(`bench: installing system packages: ${missing.join(' ')}\n`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = async (args: string[]): Promise<void> => {
    const [cmd, ...rest] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    const r = await run(cmd ?? 'apt-get', rest, { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`apt-get ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  };
  await apt(['update']);
  await apt(['install', '-y', '--no-install-recommends', ...missing]);
}
