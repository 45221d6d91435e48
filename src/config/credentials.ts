/**
 * Resolves credential sources (inline, environment variable, file) into Credentials.
 * Error messages name the key, the variable or the file — never the secret itself.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CredentialSpec, SecretSource } from './secrets-schema.js';
import type { Credentials } from './types.js';

export type CredentialsResult = { ok: true; credentials: Credentials } | { ok: false; errors: string[] };

export type SecretResult = { ok: true; value: string } | { ok: false; error: string };

/** Key name under which each kind of source is written, for error messages. */
function sourceKey(field: 'password' | 'token', source: SecretSource): string {
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
 * @param spec the credentials block as parsed by the schema
 * @param keyPath e.g. "upstreams.docker.io.credentials", used as the prefix of error messages
 */
export function resolveCredentials(
  spec: CredentialSpec,
  keyPath: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): CredentialsResult {
  const errors: string[] = [];
  const resolved: { username?: string; password?: string; token?: string } = {};
  if (spec.username !== undefined) resolved.username = spec.username;
  for (const field of ['password', 'token'] as const) {
    const source = spec[field];
    if (source === undefined) continue;
    const result = readSecret(source, env, cwd);
    if (result.ok) resolved[field] = result.value;
    else errors.push(`${keyPath}.${sourceKey(field, source)}: ${result.error}`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, credentials: resolved };
}
