/** Printable copies of the configuration with secrets hidden. */

export const MASK = '***';

/** Keys whose string values are secrets wherever they appear. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'token', 'secretAccessKey', 'peerSecret']);

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

/** A plain, mutable deep copy of the config (or a part) with every password and token replaced by "***". */
export function maskSecrets(config: unknown): unknown {
  return maskValue(config, undefined);
}

/** A redis URL with its password (if any) masked. */
export function maskUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*@)/, (_m, scheme: string, auth: string) => `${scheme}${auth.includes(':') ? `${auth.slice(0, auth.indexOf(':'))}:${MASK}@` : auth}`);
}
