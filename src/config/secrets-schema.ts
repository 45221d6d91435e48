/** The credentials block of an upstream: each secret inline, from an environment variable or from a file. */
import { z } from 'zod';
import { nonEmptyString, strictObject } from './fields.js';

/** Where a secret comes from; resolved by credentials.ts at load time. */
export type SecretSource =
  | { readonly from: 'inline'; readonly value: string }
  | { readonly from: 'env'; readonly name: string }
  | { readonly from: 'file'; readonly path: string };

export interface CredentialSpec {
  readonly username?: string;
  readonly password?: SecretSource;
  readonly token?: SecretSource;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const envName = z.string().regex(ENV_NAME, 'expected an environment variable name such as REGISTRY_PASSWORD');

/** Inline secrets are not trimmed: a secret is taken exactly as written. */
export const inlineSecret = z.string().min(1, 'must not be empty');

export const credentialsSchema = strictObject({
  username: nonEmptyString.optional(),
  password: inlineSecret.optional(),
  passwordEnv: envName.optional(),
  passwordFile: nonEmptyString.optional(),
  token: inlineSecret.optional(),
  tokenEnv: envName.optional(),
  tokenFile: nonEmptyString.optional(),
}).transform((raw, ctx): CredentialSpec => {
  const password = pickSource(raw.password, raw.passwordEnv, raw.passwordFile);
  const token = pickSource(raw.token, raw.tokenEnv, raw.tokenFile);
  if (password === 'conflict') {
    ctx.addIssue({ code: 'custom', message: 'set only one of password, passwordEnv, passwordFile' });
  }
  if (token === 'conflict') {
    ctx.addIssue({ code: 'custom', message: 'set only one of token, tokenEnv, tokenFile' });
  }
  if (password !== undefined && raw.username === undefined) {
    ctx.addIssue({ code: 'custom', path: ['username'], message: 'required when a password is set' });
  }
  if (raw.username !== undefined && password === undefined && token === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'username is set but no password, passwordEnv or passwordFile (or token) is given',
    });
  }
  if (password === 'conflict' || token === 'conflict') return z.NEVER;
  return {
    ...(raw.username !== undefined ? { username: raw.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(token !== undefined ? { token } : {}),
  };
});

export function pickSource(
  inline: string | undefined,
  env: string | undefined,
  file: string | undefined,
): SecretSource | 'conflict' | undefined {
  const sources: SecretSource[] = [];
  if (inline !== undefined) sources.push({ from: 'inline', value: inline });
  if (env !== undefined) sources.push({ from: 'env', name: env });
  if (file !== undefined) sources.push({ from: 'file', path: file });
  if (sources.length > 1) return 'conflict';
  return sources[0];
}
