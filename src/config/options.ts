/**
 * The options that environment variables and command-line flags override, each declared once:
 * the key it overrides, its flag, its variable, its help and its parser. The overrides, the CLI's
 * flags and their help text come from this table. Precedence: file < environment < flags.
 */
import { LOG_LEVELS, type LogLevel } from './fields.js';
import { parseListen } from './listen.js';
import type { FileConfig } from './schema.js';
import { parseSize } from './units.js';

/** The type at a dotted key path: At<FileConfig, 'storage.path'> is string. */
type At<T, P extends string> = P extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? At<T[Head], Rest>
    : never
  : P extends keyof T
    ? T[P]
    : never;

export interface Option {
  /** The config key it overrides, written as in error messages. */
  readonly key: string;
  /** Commander's flag syntax; the long flag camelCased is the option's name in Flags. */
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  /** Throws an Error whose message is fit for a user. */
  readonly parse: (raw: string) => unknown;
}

/** Checks at compile time that the parser yields the type stored at the key. */
const option = <P extends string>(spec: Option & { readonly key: P; readonly parse: (raw: string) => At<FileConfig, P> }): Option => spec;

function parseLogLevel(value: string): LogLevel {
  const level = value.trim().toLowerCase();
  const known = LOG_LEVELS.find((candidate) => candidate === level);
  if (known === undefined) throw new Error(`expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  return known;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

function parseBoolean(value: string): boolean {
  const text = value.trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new Error(`expected true or false (also 1/0, yes/no, on/off), got ${JSON.stringify(value)}`);
}

function parseWorkers(value: string): 'auto' | number {
  const text = value.trim().toLowerCase();
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`expected auto or a whole number of worker processes from 1 to 64, got ${JSON.stringify(value)}`);
  return n;
}

function parseDir(value: string): string {
  if (value.trim() === '') throw new Error('must not be empty');
  return value;
}

export const OPTIONS = {
  listen: option({ key: 'listen', flag: '-l, --listen <host:port>', env: 'BERTH_LISTEN', help: 'listen address', parse: parseListen }),
  dataDir: option({ key: 'storage.path', flag: '-d, --data-dir <dir>', env: 'BERTH_DATA_DIR', help: 'cache directory', parse: parseDir }),
  maxSize: option({ key: 'storage.maxSize', flag: '--max-size <size>', env: 'BERTH_MAX_SIZE', help: 'cache size cap, e.g. 50GiB (0 = unbounded)', parse: parseSize }),
  logLevel: option({ key: 'log.level', flag: '--log-level <level>', env: 'BERTH_LOG_LEVEL', help: LOG_LEVELS.join('|'), parse: parseLogLevel }),
  offline: option({ key: 'offline', flag: '--offline', env: 'BERTH_OFFLINE', help: 'never dial an upstream; serve from the cache only', parse: parseBoolean }),
  workers: option({ key: 'workers', flag: '--workers <n>', env: 'BERTH_WORKERS', help: 'serving processes: auto (one per CPU, at most 8) or 1 to 64; 1 = a single process', parse: parseWorkers }),
} as const;

export type OptionName = keyof typeof OPTIONS;
export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

/** The config file itself: read before the options it may set. */
export const CONFIG_FILE = { flag: '-c, --config <file>', env: 'BERTH_CONFIG', help: 'YAML config file' } as const;

/** Flag values as the CLI parsed them: strings, or true/false for a flag without a value. */
export type Flags = { readonly [K in OptionName]?: string | boolean };

/** The flag's long form, as a user typed it: "--data-dir". */
export function longFlag(spec: { readonly flag: string }): string {
  return /--[a-z-]+/.exec(spec.flag)?.[0] ?? spec.flag;
}

/** Help text of a flag: what it does, its variable and the key it overrides. */
export function describeOption(spec: Option | typeof CONFIG_FILE): string {
  return 'key' in spec ? `${spec.help} (env ${spec.env}; overrides ${spec.key})` : `${spec.help} (env ${spec.env})`;
}

export interface Override {
  readonly key: string;
  readonly value: unknown;
}

export type OverridesResult = { overrides: Override[]; errors: string[] };

/** Environment then flags, so a flag wins; empty variables count as unset; errors name their source. */
export function readOverrides(env: NodeJS.ProcessEnv, flags: Flags): OverridesResult {
  const overrides: Override[] = [];
  const errors: string[] = [];
  const take = (spec: Option, source: string, raw: string | undefined): void => {
    if (raw === undefined) return;
    try {
      overrides.push({ key: spec.key, value: spec.parse(raw) });
    } catch (error) {
      errors.push(`${source}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  for (const spec of Object.values(OPTIONS)) take(spec, spec.env, env[spec.env] === '' ? undefined : env[spec.env]);
  for (const name of OPTION_NAMES) {
    const raw = flags[name];
    take(OPTIONS[name], longFlag(OPTIONS[name]), raw === undefined ? undefined : String(raw));
  }
  return { overrides, errors };
}

function setAt(target: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const object = target !== null && typeof target === 'object' ? (target as Record<string, unknown>) : {};
  return { ...object, [head]: setAt(object[head], rest, value) };
}

/** The parsed file with each override written at its key (OPTIONS checked each value's type). */
export function applyOverrides(file: FileConfig, overrides: readonly Override[]): FileConfig {
  return overrides.reduce<FileConfig>((current, o) => setAt(current, o.key.split('.'), o.value) as FileConfig, file);
}
