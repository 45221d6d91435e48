/** berth's version, from package.json (two levels above the compiled dist/src/). */
import { readFileSync } from 'node:fs';

export function berthVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
