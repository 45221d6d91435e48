/** Reusable zod field schemas for the user-facing configuration file. */
import { z } from 'zod';
import { parseListen, type ListenAddress } from './listen.js';
import { parseSize } from './units.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Registry host name, lowercase, optional port: docker.io, registry.example.com:5000. */
export const REGISTRY_HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(?<port>:\d{1,5})?$/;

export function isRegistryHost(value: string): boolean {
  const match = REGISTRY_HOST.exec(value);
  if (match === null) return false;
  const port = match.groups?.['port'];
  return port === undefined || Number(port.slice(1)) <= 65535;
}

export const registryHost = z
  .string()
  .refine(isRegistryHost, 'expected a lowercase registry host such as docker.io or registry.example.com:5000');

/**
 * Runs a throwing parser on a string or number input and reports its Error message as the issue.
 * The parsers' messages never contain more than the offending (non-secret) value.
 */
export function parsed<T>(what: string, parse: (input: string | number) => T) {
  return z.unknown().transform((input, ctx): T => {
    if (typeof input !== 'string' && typeof input !== 'number') {
      ctx.addIssue({ code: 'custom', message: `expected a ${what}, got ${describe(input)}` });
      return z.NEVER;
    }
    try {
      return parse(input);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : `invalid ${what}` });
      return z.NEVER;
    }
  });
}

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'object' ? 'a mapping' : typeof input;
}

/** A size ("50GiB", "1.5GB", or bytes as a number) parsed to bytes. */
export const size = parsed('size', parseSize);

/** A listen address parsed to host and port. */
export const listen = parsed<ListenAddress>('listen address', parseListen);

export const nonEmptyString = z.string().trim().min(1, 'must not be empty');

/** An http(s) URL without credentials, query or fragment; normalised without a trailing slash. */
export const httpUrl = z.string().transform((input, ctx): string => {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected an absolute http:// or https:// URL' });
    return z.NEVER;
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? `expected an http:// or https:// URL, got scheme "${url.protocol.slice(0, -1)}"`
      : url.username !== '' || url.password !== ''
        ? 'must not contain credentials; use the credentials block'
        : url.search !== '' || url.hash !== ''
          ? 'must not contain a query or fragment'
          : undefined;
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
});

/**
 * A strict object whose unknown-key issues carry the list of allowed keys as their message.
 * errors.ts turns that into one "path.key: unknown key (allowed keys: …)" line per key.
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  const allowed = `allowed keys: ${Object.keys(shape).join(', ')}`;
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? allowed : undefined),
  });
}
