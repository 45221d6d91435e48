/** Turns zod issues into "key.path: what is wrong" lines. Messages never include input values. */
import type { z } from 'zod';

/** ["upstreams", "docker.io", "aliases", 1] → "upstreams.docker.io.aliases[1]". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function line(path: readonly PropertyKey[], message: string): string {
  const where = formatPath(path);
  return where === '' ? `(top level): ${message}` : `${where}: ${message}`;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  switch (issue.code) {
    case 'unrecognized_keys': {
      const hint = issue.message.startsWith('allowed keys:') ? ` (${issue.message})` : '';
      return issue.keys.map((key) => line([...issue.path, key], `unknown key${hint}`));
    }
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'invalid key';
      return [line(issue.path, inner)];
    }
    case 'invalid_type':
      if (issue.message.endsWith('received undefined')) return [line(issue.path, 'is required')];
      return [line(issue.path, issue.message.replace(/^Invalid input: /, ''))];
    case 'invalid_value':
      return [line(issue.path, `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`)];
    default:
      return [line(issue.path, issue.message)];
  }
}

/** One line per problem, in the order zod found them. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap(describeIssue);
}
