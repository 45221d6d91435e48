/** Platforms (`linux/arm64/v8`) as given on a command line, and matching them against index entries. */

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** `os/arch[/variant]`; undefined when malformed. */
export function parsePlatform(text: string): Platform | undefined {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) return undefined;
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return { os, architecture, ...(variant !== undefined ? { variant } : {}) };
}

/** A comma-separated list; undefined when any entry is malformed. */
export function parsePlatforms(list: string): Platform[] | undefined {
  const out: Platform[] = [];
  for (const item of list.split(',')) {
    if (item.trim() === '') continue;
    const p = parsePlatform(item);
    if (!p) return undefined;
    out.push(p);
  }
  return out;
}

/** A wanted platform without a variant matches every variant of its os/architecture. */
export function platformMatches(wanted: Platform, actual: Partial<Platform> | undefined): boolean {
  if (!actual) return false;
  if (actual.os !== wanted.os || actual.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || actual.variant === wanted.variant;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant !== undefined ? `/${p.variant}` : ''}`;
}
