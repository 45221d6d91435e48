/** The Node HTTP server around the koa app, with bounds against slow and hostile clients. */
import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import type { RequestState } from './state.js';

export function createHttpServer(app: Koa<RequestState>): Server {
  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: 65_000 }, app.callback());
  server.on('clientError', (_err, socket) => {
    // Garbage, a TLS hello on the plain port, or an oversized header: answer quickly and close.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
  });
  return server;
}
