/** Resolves an upstream's credential pool: every member's secrets read like `credentials`. */
import { resolveCredentials } from './credentials.js';
import { formatPath } from './errors.js';
import type { PooledCredentialSpec } from './pool-schema.js';
import type { PooledCredentials } from './types.js';

export function resolvePool(
  pool: readonly PooledCredentialSpec[],
  upstream: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  errors: string[],
): PooledCredentials[] {
  const out: PooledCredentials[] = [];
  pool.forEach((member, index) => {
    const keyPath = formatPath(['upstreams', upstream, 'credentialPool', index]);
    const result = resolveCredentials(member.spec, keyPath, env, cwd);
    if (result.ok) out.push({ name: member.name, ...result.credentials });
    else errors.push(...result.errors);
  });
  return out;
}
