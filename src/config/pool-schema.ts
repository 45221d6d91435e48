/**
 * An upstream's credential pool: a list of named credential blocks, each written exactly like the
 * single `credentials` block (username, password/passwordEnv/passwordFile, token/tokenEnv/tokenFile).
 * The name is what metrics, logs and /status.json show; it is never a secret.
 */
import { z } from 'zod';
import { credentialsSchema, type CredentialSpec } from './secrets-schema.js';

export interface PooledCredentialSpec {
  readonly name: string;
  readonly spec: CredentialSpec;
}

/** Bounded, label-safe names: they become the `credential` label of a metric. */
const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const MAX_POOL = 64;

const poolName = z.string().regex(POOL_NAME, 'expected a name of letters, digits, ".", "_" or "-" (at most 63 characters)');

const ALLOWED = 'allowed keys: name, username, password, passwordEnv, passwordFile, token, tokenEnv, tokenFile';

const member = z.looseObject({ name: poolName }).transform((raw, ctx): PooledCredentialSpec => {
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
  return { name, spec: parsed.data };
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
