/** The Node HTTP(S) server around the koa app, with bounds against slow and hostile clients. */
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { RequestState } from './state.js';

export interface ServerLimits {
  /** The whole request head must arrive within this time. */
  readonly headersTimeoutMs: number;
}

/** The status Node's parser error deserves; anything unknown is plain garbage. */
function statusOf(err: NodeJS.ErrnoException): string {
  if (err.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** An HTTP/1.1 server, or an HTTPS one (same options, same app) when TLS material is given. */
export type BerthServer = Server | TlsServer;

export function createHttpServer(
  app: Koa<RequestState>,
  limits: ServerLimits = { headersTimeoutMs: 15_000 },
  tls?: { readonly cert: Buffer; readonly key: Buffer },
): BerthServer {
  const headersTimeout = limits.headersTimeoutMs;
  const options = {
    maxHeaderSize: 16 * 1024,
    headersTimeout,
    requestTimeout: Math.max(30_000, 2 * headersTimeout),
    // Node only enforces the two timeouts above when it sweeps connections; sweep often
    // enough that a slow-header client is cut close to the limit, not up to 30 s later.
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(headersTimeout / 3))),
    keepAliveTimeout: 65_000,
  };
  const server: BerthServer = tls ? createTlsServer({ ...options, cert: tls.cert, key: tls.key }, app.callback()) : createServer(options, app.callback());
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Garbage, a TLS hello on the plain port, or an oversized header: answer quickly and close.
    if (socket.writable && err.code !== 'ECONNRESET') {
      socket.end(`HTTP/1.1 ${statusOf(err)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  server.on('connect', (_req: unknown, socket: Duplex) => {
    // Not a forward proxy: a CONNECT gets a plain refusal rather than a silently dropped socket.
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  return server;
}
