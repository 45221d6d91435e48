/** Printable copies of the configuration with secrets hidden. */
import type { Config, Credentials } from './types.js';

export const MASK = '***';

/** Keys whose string values are secrets wherever they appear. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'token', 'secretAccessKey']);

function maskValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string' && key !== undefined && SECRET_KEYS.has(key)) return MASK;
  if (Array.isArray(value)) return value.map((item) => maskValue(item, undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [childKey, child] of Object.entries(value)) out[childKey] = maskValue(child, childKey);
    return out;
  }
  return value;
}

/** A plain, mutable deep copy of the config with every password and token replaced by "***". */
export function maskSecrets(config: Config): unknown {
  return maskValue(config, undefined);
}

/** Credentials with password and token replaced by "***"; the username is kept. */
export function maskCredentials(credentials: Credentials): Credentials {
  return {
    ...(credentials.username !== undefined ? { username: credentials.username } : {}),
    ...(credentials.password !== undefined ? { password: MASK } : {}),
    ...(credentials.token !== undefined ? { token: MASK } : {}),
  };
}
