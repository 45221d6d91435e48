/**
 * loadConfig: embedded defaults < YAML file < environment < flags → a validated, deep-frozen Config.
 */
import { buildConfig } from './build.js';
import { formatIssues } from './errors.js';
import { applyOverrides, CONFIG_FILE, readOverrides, type Flags } from './options.js';
import { readConfigFile } from './read-file.js';
import { fileSchema } from './schema.js';
import type { Config } from './types.js';

export interface LoadOptions {
  /** Path of the YAML file; when absent, BERTH_CONFIG; when both are absent, only defaults apply. */
  file?: string;
  env: NodeJS.ProcessEnv;
  flags: Flags;
  /** Directory that relative paths (config file, storage.path, data dir, secret files) resolve against; default process.cwd(). */
  cwd?: string;
}

export type LoadResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** The file to read, if any: the explicit option wins over BERTH_CONFIG; empty strings count as unset. */
export function configFilePath(opts: Pick<LoadOptions, 'file' | 'env'>): string | undefined {
  if (opts.file !== undefined && opts.file !== '') return opts.file;
  const fromEnv = opts.env[CONFIG_FILE.env];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
}

export function loadConfig(opts: LoadOptions): LoadResult {
  const cwd = opts.cwd ?? process.cwd();
  const errors: string[] = [];

  const path = configFilePath(opts);
  let data: unknown = {};
  if (path !== undefined) {
    const read = readConfigFile(path, cwd);
    if (read.ok) data = read.data;
    else errors.push(...read.errors);
  }

  // After a failed read, data is {} and parses cleanly, so only the read error is reported.
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) errors.push(...formatIssues(parsed.error.issues));

  const overrides = readOverrides(opts.env, opts.flags);
  errors.push(...overrides.errors);
  if (!parsed.success || errors.length > 0) return { ok: false, errors };

  return buildConfig(applyOverrides(parsed.data, overrides.overrides), opts.env, cwd);
}

/** Like loadConfig but throws an Error listing every problem, one per line. */
export function loadConfigOrThrow(opts: LoadOptions): Config {
  const result = loadConfig(opts);
  if (result.ok) return result.config;
  throw new Error(`invalid configuration:\n  ${result.errors.join('\n  ')}`);
}
