/**
 * Turns the parsed file (defaults applied, overrides written in) into the Config: checks
 * cross-references, resolves paths, reads secrets and deep-freezes the result.
 */
import { resolve } from 'node:path';
import { formatPath } from './errors.js';
import { deepFreeze } from './freeze.js';
import { resolvePool } from './pool.js';
import { buildCluster, buildScale } from './scale.js';
import type { FileConfig } from './schema.js';
import { resolveCredentials, type Resolved } from './secrets.js';
import { buildSecurity } from './security.js';
import type { Config } from './types.js';

type UpstreamSpec = FileConfig['upstreams'][number];

export type BuildResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Checks that names and aliases route to exactly one upstream. */
function checkRouting(upstreams: readonly UpstreamSpec[], defaultUpstream: string): string[] {
  const errors: string[] = [];
  const owner = new Map<string, string>();
  for (const upstream of upstreams) owner.set(upstream.name, upstream.name);
  for (const upstream of upstreams) {
    upstream.aliases.forEach((alias, index) => {
      const at = formatPath(['upstreams', upstream.name, 'aliases', index]);
      const taken = owner.get(alias);
      if (taken === undefined) owner.set(alias, upstream.name);
      else if (taken === upstream.name) errors.push(`${at}: "${alias}" is listed twice or is the upstream's own name`);
      else errors.push(`${at}: "${alias}" already routes to upstream "${taken}"`);
    });
  }
  const names = upstreams.map((u) => u.name);
  if (!names.includes(defaultUpstream)) {
    const routed = owner.get(defaultUpstream);
    const hint =
      routed !== undefined
        ? `; it is an alias of "${routed}", use the upstream name`
        : `; configured upstreams: ${names.join(', ')}`;
    errors.push(`defaultUpstream: "${defaultUpstream}" is not a configured upstream${hint}`);
  }
  return errors;
}

function buildUpstream(spec: UpstreamSpec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]): Resolved<UpstreamSpec> {
  const { credentials, credentialPool, ...rest } = spec;
  const keyPath = formatPath(['upstreams', spec.name, 'credentials']);
  return {
    ...rest,
    ...(credentialPool !== undefined ? { credentialPool: resolvePool(credentialPool, spec.name, env, cwd, errors) } : {}),
    ...(credentials !== undefined ? { credentials: resolveCredentials(credentials, keyPath, env, cwd, errors) } : {}),
  };
}

export function buildConfig(file: FileConfig, env: NodeJS.ProcessEnv, cwd: string): BuildResult {
  const errors = checkRouting(file.upstreams, file.defaultUpstream);
  const upstreams = file.upstreams.map((spec) => buildUpstream(spec, env, cwd, errors));
  const security = buildSecurity(file, upstreams, env, cwd, errors);
  const scale = buildScale(file, env, cwd, errors);
  const cluster = file.cluster !== undefined ? buildCluster(file.cluster, env, cwd, errors) : undefined;
  if (errors.length > 0) return { ok: false, errors };

  const { listen, storage, tls: _tls, auth: _auth, upstreams: _upstreams, cluster: _cluster, ...rest } = file;
  const { s3: _s3, localCache: _localCache, ...local } = storage;
  const config: Resolved<FileConfig> = {
    listen,
    storage: { ...local, path: resolve(cwd, storage.path), ...scale },
    ...rest,
    ...(cluster !== undefined ? { cluster } : {}),
    ...security,
    upstreams,
  };
  return { ok: true, config: deepFreeze(config) };
}
