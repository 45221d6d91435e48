/** Environment variables and command-line flags that override the file. */
import { LOG_LEVELS, type LogLevel } from './fields.js';
import { parseListen, type ListenAddress } from './listen.js';
import { parseSize } from './units.js';

export interface Overrides {
  readonly listen?: ListenAddress;
  readonly dataDir?: string;
  readonly logLevel?: LogLevel;
  readonly offline?: boolean;
  readonly maxSize?: number;
}

export interface Flags {
  readonly listen?: string;
  readonly dataDir?: string;
  readonly logLevel?: string;
  readonly offline?: boolean;
}

export type OverridesResult = { overrides: Overrides; errors: string[] };

/** Names used in error messages, so a user can tell which source is wrong. */
export const ENV = {
  config: 'BERTH_CONFIG',
  listen: 'BERTH_LISTEN',
  dataDir: 'BERTH_DATA_DIR',
  logLevel: 'BERTH_LOG_LEVEL',
  offline: 'BERTH_OFFLINE',
  maxSize: 'BERTH_MAX_SIZE',
} as const;

export const FLAG = {
  listen: '--listen',
  dataDir: '--data-dir',
  logLevel: '--log-level',
} as const;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseLogLevel(value: string): LogLevel {
  const level = value.trim().toLowerCase();
  const known = LOG_LEVELS.find((candidate) => candidate === level);
  if (known === undefined) {
    throw new Error(`expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  }
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

function parseDir(value: string): string {
  if (value.trim() === '') throw new Error('must not be empty');
  return value;
}

/** Collects parsed values and "SOURCE: problem" errors. */
class Collector {
  readonly values: { -readonly [K in keyof Overrides]: Overrides[K] } = {};
  readonly errors: string[] = [];

  take<K extends keyof Overrides>(key: K, source: string, raw: string | undefined, parse: (v: string) => Overrides[K]): void {
    if (raw === undefined) return;
    try {
      this.values[key] = parse(raw);
    } catch (error) {
      this.errors.push(`${source}: ${message(error)}`);
    }
  }
}

/** Reads BERTH_* variables; empty variables count as unset. */
export function envOverrides(env: NodeJS.ProcessEnv): OverridesResult {
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const c = new Collector();
  c.take('listen', ENV.listen, get(ENV.listen), parseListen);
  c.take('dataDir', ENV.dataDir, get(ENV.dataDir), parseDir);
  c.take('logLevel', ENV.logLevel, get(ENV.logLevel), parseLogLevel);
  c.take('offline', ENV.offline, get(ENV.offline), parseBoolean);
  c.take('maxSize', ENV.maxSize, get(ENV.maxSize), parseSize);
  return { overrides: c.values, errors: c.errors };
}

/** Validates command-line flags; undefined flags are unset. */
export function flagOverrides(flags: Flags): OverridesResult {
  const c = new Collector();
  c.take('listen', FLAG.listen, flags.listen, parseListen);
  c.take('dataDir', FLAG.dataDir, flags.dataDir, parseDir);
  c.take('logLevel', FLAG.logLevel, flags.logLevel, parseLogLevel);
  if (flags.offline !== undefined) c.values.offline = flags.offline;
  return { overrides: c.values, errors: c.errors };
}
