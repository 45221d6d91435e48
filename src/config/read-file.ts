/** Reads and parses a YAML configuration file into plain data, without validating its shape. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { formatPath } from './errors.js';

export type ReadResult = { ok: true; data: unknown } | { ok: false; errors: string[] };

function reason(error: unknown): string {
  if (error instanceof Error) {
    // Node's fs messages look like "ENOENT: no such file or directory, open '/x'"; the path is already shown.
    return (error as NodeJS.ErrnoException).code !== undefined ? (error.message.split(', ')[0] ?? error.message) : error.message;
  }
  return String(error);
}

/**
 * YAML errors carry a snippet of the offending line, which could hold a secret; keep only the
 * description and the position.
 */
function syntaxErrorLine(file: string, message: string, line?: number, col?: number): string {
  const description = message.split(/ at line \d+, column \d+/)[0]?.split('\n')[0]?.trim() ?? 'invalid YAML';
  const where = line !== undefined ? `${file}:${line}:${col ?? 1}` : file;
  return `${where}: YAML syntax error: ${description}`;
}

/**
 * Drops null-valued mapping entries ("log:" with every child commented out means "use defaults")
 * and reports "__proto__" keys, which would otherwise be dropped silently by validation.
 */
function sanitize(value: unknown, path: PropertyKey[], errors: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, index) => sanitize(item, [...path, index], errors));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === '__proto__') errors.push(`${formatPath([...path, key])}: key not allowed`);
      else if (child !== null) out[key] = sanitize(child, [...path, key], errors);
    }
    return out;
  }
  return value;
}

/** @param file as given by the user (shown in errors); read relative to cwd. */
export function readConfigFile(file: string, cwd: string): ReadResult {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    return { ok: false, errors: [`config file "${file}": cannot read (${reason(error)})`] };
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => syntaxErrorLine(file, e.message, e.linePos?.[0].line, e.linePos?.[0].col)),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, errors: [`${file}: YAML error: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (data === null || data === undefined) return { ok: true, data: {} };
  if (typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, errors: [`config file "${file}": expected a mapping of options at the top level`] };
  }
  const errors: string[] = [];
  const clean = sanitize(data, [], errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, data: clean };
}
