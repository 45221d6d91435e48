/**
 * Builds the serving-side security settings: TLS file paths (checked readable), client auth
 * (htpasswd path checked readable, tokens resolved from their sources), and the consistency
 * of every upstream's access rule with them. Errors name keys and files, never secrets.
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { readSecret } from './credentials.js';
import { formatPath } from './errors.js';
import type { AuthSpec, TlsSpec } from './security-schema.js';
import type { ClientAuthConfig, ClientToken, TlsConfig, UpstreamConfig } from './types.js';

export interface Security {
  readonly tls?: TlsConfig;
  readonly auth?: ClientAuthConfig;
}

function readablePath(file: string, key: string, cwd: string, errors: string[]): string {
  const path = resolve(cwd, file);
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    errors.push(`${key}: cannot read file "${path}" (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  return path;
}

function buildTls(spec: TlsSpec, cwd: string, errors: string[]): TlsConfig {
  return {
    certPath: readablePath(spec.cert, 'tls.cert', cwd, errors),
    keyPath: readablePath(spec.key, 'tls.key', cwd, errors),
    watch: spec.watch,
  };
}

function buildAuth(spec: AuthSpec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]): ClientAuthConfig {
  const tokens: ClientToken[] = [];
  const values = new Set<string>();
  spec.tokens.forEach((t, i) => {
    const key = formatPath(['auth', 'tokens', i]);
    const read = readSecret(t.token, env, cwd);
    if (!read.ok) {
      errors.push(`${key}: ${read.error}`);
      return;
    }
    if (values.has(read.value)) errors.push(`${key}: the same token is given to two names`);
    values.add(read.value);
    tokens.push({ name: t.name, token: read.value });
  });
  return {
    realm: spec.realm,
    tokens,
    ...(spec.htpasswd !== undefined ? { htpasswdPath: readablePath(spec.htpasswd, 'auth.htpasswd', cwd, errors) } : {}),
  };
}

/** Access rules only mean something with client auth; a private upstream is never opened to anonymous clients. */
function checkAccess(upstreams: readonly UpstreamConfig[], authOn: boolean, errors: string[]): void {
  for (const u of upstreams) {
    const key = formatPath(['upstreams', u.name, 'access']);
    if (u.access?.allow !== undefined && !authOn) {
      errors.push(`${key}.allow: needs client authentication (an auth block); without it anyone may pull`);
    }
    if (u.access?.anonymous === true && (u.credentials !== undefined || u.credentialPool !== undefined)) {
      errors.push(`${key}.anonymous: an upstream with credentials cannot be opened to anonymous clients`);
    }
  }
}

export function buildSecurity(
  file: { readonly tls?: TlsSpec; readonly auth?: AuthSpec },
  upstreams: readonly UpstreamConfig[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  errors: string[],
): Security {
  const tls = file.tls !== undefined ? buildTls(file.tls, cwd, errors) : undefined;
  const auth = file.auth !== undefined ? buildAuth(file.auth, env, cwd, errors) : undefined;
  checkAccess(upstreams, auth !== undefined, errors);
  return { ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
}
