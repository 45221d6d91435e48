/**
 * An upstream's credential pool: a list of named credential blocks, each written exactly like the
 * single `credentials` block (username, password/passwordEnv/passwordFile, token/tokenEnv/tokenFile)
 * and resolved the same way. The name is what metrics, logs and /status.json show; never a secret.
 */
import { z } from 'zod';
import { formatPath } from './errors.js';
import { credentialsSchema, resolveCredentials, type Resolved } from './secrets.js';

/** Bounded, label-safe names: they become the `credential` label of a metric. */
const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const MAX_POOL = 64;

const poolName = z.string().regex(POOL_NAME, 'expected a name of letters, digits, ".", "_" or "-" (at most 63 characters)');

const ALLOWED = 'allowed keys: name, username, password, passwordEnv, passwordFile, token, tokenEnv, tokenFile';

const member = z.looseObject({ name: poolName }).transform((raw, ctx) => {
  const { name, ...rest } = raw;
  const parsed = credentialsSchema.safeParse(rest);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue(issue.code === 'unrecognized_keys' ? { ...issue, message: ALLOWED } : { code: 'custom', path: issue.path, message: issue.message });
    }
    return z.NEVER;
  }
  if (parsed.data.username === undefined && parsed.data.token === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a pool member needs a username with a password, or a token' });
    return z.NEVER;
  }
  return { name, ...parsed.data };
});

export const credentialPoolSchema = z
  .array(member)
  .min(1, 'must list at least one credential')
  .max(MAX_POOL, `at most ${MAX_POOL} credentials`)
  .superRefine((pool, ctx) => {
    const seen = new Set<string>();
    pool.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${m.name}" is used twice; names must be unique` });
      seen.add(m.name);
    });
  });

type PoolSpec = z.output<typeof credentialPoolSchema>;

export function resolvePool(
  pool: PoolSpec,
  upstream: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  errors: string[],
): Resolved<PoolSpec> {
  return pool.map(({ name, ...spec }, index) => {
    const keyPath = formatPath(['upstreams', upstream, 'credentialPool', index]);
    return { name, ...resolveCredentials(spec, keyPath, env, cwd, errors) };
  });
}
