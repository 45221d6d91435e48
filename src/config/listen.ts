import { isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Host used for a bare port ("5000"): loopback, like the default, so a port change never exposes the mirror. */
export const BARE_PORT_HOST = '127.0.0.1';
/** Host used for ":PORT": every IPv4 interface. */
export const ANY_HOST = '0.0.0.0';

const SHAPES = 'HOST:PORT, [IPv6]:PORT, :PORT or a bare PORT';
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/;

function expected(input: string | number, hint = ''): Error {
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return new Error(`expected ${SHAPES}, got ${shown}${hint}`);
}

function parsePort(text: string, input: string | number): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535) {
    throw expected(input, '; the port must be 0-65535');
  }
  return port;
}

/**
 * Parses a listen address: "127.0.0.1:5000", "localhost:5000", "[::1]:5000",
 * ":5000" (all interfaces, 0.0.0.0), "5000" or 5000 (loopback 127.0.0.1). Port 0 picks a free port.
 */
export function parseListen(input: string | number): ListenAddress {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0 || input > 65535) {
      throw expected(input, '; the port must be 0-65535');
    }
    return { host: BARE_PORT_HOST, port: input };
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return { host: BARE_PORT_HOST, port: parsePort(text, input) };

  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed !== null) {
    const host = bracketed[1] ?? '';
    if (!isIPv6(host)) throw expected(input, '; brackets are only for IPv6 addresses');
    return { host, port: parsePort(bracketed[2] ?? '', input) };
  }

  const anyHost = /^:(\d+)$/.exec(text);
  if (anyHost !== null) return { host: ANY_HOST, port: parsePort(anyHost[1] ?? '', input) };

  const hostPort = /^([^:[\]\s]+):(\d+)$/.exec(text);
  if (hostPort !== null) {
    const host = hostPort[1] ?? '';
    const looksNumeric = /^[\d.]+$/.test(host);
    if (looksNumeric ? !isIPv4(host) : !HOSTNAME.test(host)) {
      throw expected(input, `; ${JSON.stringify(host)} is not a valid host`);
    }
    return { host, port: parsePort(hostPort[2] ?? '', input) };
  }

  if ((text.match(/:/g) ?? []).length > 1) {
    throw expected(input, '; write IPv6 addresses in brackets, e.g. [::1]:5000');
  }
  throw expected(input);
}

/** Formats a listen address so parseListen reads it back. */
export function formatListen(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
