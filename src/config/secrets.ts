/**
 * Secrets in the file: each written inline, as an environment variable name or as a file path.
 * The schema keeps the source; readSecret reads it at load time. Error messages name the key,
 * the variable or the file — never the secret itself.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { nonEmptyString, strictObject } from './fields.js';

/** Where a secret comes from. */
export type SecretSource =
  | { readonly from: 'inline'; readonly value: string }
  | { readonly from: 'env'; readonly name: string }
  | { readonly from: 'file'; readonly path: string };

/** A parsed shape with every secret source replaced by the secret it names. */
export type Resolved<T> = T extends SecretSource
  ? string
  : T extends readonly (infer U)[]
    ? Resolved<U>[]
    : T extends object
      ? { [K in keyof T]: Resolved<T[K]> }
      : T;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const envName = z.string().regex(ENV_NAME, 'expected an environment variable name such as REGISTRY_PASSWORD');

/** Inline secrets are not trimmed: a secret is taken exactly as written. */
export const inlineSecret = z.string().min(1, 'must not be empty');

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

export const credentialsSchema = strictObject({
  username: nonEmptyString.optional(),
  password: inlineSecret.optional(),
  passwordEnv: envName.optional(),
  passwordFile: nonEmptyString.optional(),
  /** A static bearer token or identity token sent as the token service's refresh token / Bearer. */
  token: inlineSecret.optional(),
  tokenEnv: envName.optional(),
  tokenFile: nonEmptyString.optional(),
}).transform((raw, ctx) => {
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
  const spec: { username?: string; password?: SecretSource; token?: SecretSource } = {};
  if (raw.username !== undefined) spec.username = raw.username;
  if (password !== undefined) spec.password = password;
  if (token !== undefined) spec.token = token;
  return spec;
});

export type CredentialSpec = z.output<typeof credentialsSchema>;

export type SecretResult = { ok: true; value: string } | { ok: false; error: string };

/** The key a source was written under, for error messages: password, passwordEnv or passwordFile. */
export function sourceKey(field: string, source: SecretSource): string {
  if (source.from === 'env') return `${field}Env`;
  if (source.from === 'file') return `${field}File`;
  return field;
}

/**
 * Names conventional variables (UPPER_CASE); anything else might be a secret pasted into
 * passwordEnv/tokenEnv by mistake (e.g. a ghp_… token), so it is not echoed.
 */
function envLabel(name: string): string {
  return /^[A-Z_][A-Z0-9_]*$/.test(name)
    ? `environment variable ${name}`
    : 'the environment variable (name not shown: it is not UPPER_CASE and may be a misplaced secret)';
}

function checkValue(value: string, origin: string): SecretResult {
  if (value === '') return { ok: false, error: `${origin} is empty` };
  if (/[\r\n\0]/.test(value)) return { ok: false, error: `${origin} contains a line break or NUL character` };
  return { ok: true, value };
}

export function readSecret(source: SecretSource, env: NodeJS.ProcessEnv, cwd: string): SecretResult {
  switch (source.from) {
    case 'inline':
      return checkValue(source.value, 'the value');
    case 'env': {
      const label = envLabel(source.name);
      const value = env[source.name];
      if (value === undefined) return { ok: false, error: `${label} is not set` };
      return checkValue(value, label);
    }
    case 'file': {
      const path = resolve(cwd, source.path);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
        return { ok: false, error: `cannot read file "${path}" (${code})` };
      }
      // Secret files conventionally end with one newline (echo, Kubernetes and Docker secrets).
      return checkValue(text.replace(/\r?\n$/, ''), `file "${path}"`);
    }
  }
}

/**
 * Reads the password and token of a credentials block.
 * @param keyPath e.g. "upstreams.docker.io.credentials", the prefix of error messages
 */
export function resolveCredentials(
  spec: CredentialSpec,
  keyPath: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  errors: string[],
): Resolved<CredentialSpec> {
  const resolved: Resolved<CredentialSpec> = {};
  if (spec.username !== undefined) resolved.username = spec.username;
  for (const field of ['password', 'token'] as const) {
    const source = spec[field];
    if (source === undefined) continue;
    const result = readSecret(source, env, cwd);
    if (result.ok) resolved[field] = result.value;
    else errors.push(`${keyPath}.${sourceKey(field, source)}: ${result.error}`);
  }
  return resolved;
}
