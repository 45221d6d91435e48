/** Parses an htpasswd file: `user:hash` lines; only bcrypt hashes ($2y$, $2a$, $2b$) are usable. */

export interface HtpasswdTable {
  /** User → bcrypt hash. */
  readonly users: ReadonlyMap<string, string>;
  /** Lines that were not used, by line number and user (never the hash). */
  readonly skipped: ReadonlyArray<{ readonly line: number; readonly user: string; readonly reason: string }>;
}

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

function reasonFor(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'MD5 (apr1) hash; only bcrypt (htpasswd -B) is supported';
  if (hash.startsWith('{SHA}')) return 'SHA-1 hash; only bcrypt (htpasswd -B) is supported';
  if (hash.startsWith('$2')) return 'malformed bcrypt hash';
  return 'unsupported hash; only bcrypt (htpasswd -B) is supported';
}

export function parseHtpasswd(text: string): HtpasswdTable {
  const users = new Map<string, string>();
  const skipped: Array<{ line: number; user: string; reason: string }> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = colon === -1 ? '' : line.slice(0, colon);
    if (user === '') {
      skipped.push({ line: index + 1, user: '', reason: 'not a user:hash line' });
      return;
    }
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) skipped.push({ line: index + 1, user, reason: reasonFor(hash) });
    else if (users.has(user)) skipped.push({ line: index + 1, user, reason: 'user listed twice; the first entry wins' });
    else users.set(user, hash);
  });
  return { users, skipped };
}
