/**
 * A Docker-Hub-like pull quota in front of a real registry: a reverse proxy on 127.0.0.1 that
 * knows who asks (the Basic user, or the `sub` of a Bearer JWT; `anonymous` without either),
 * counts each identity's manifest GETs answered 200 (what Docker Hub counts as a pull) in a
 * fixed window, sends `ratelimit-limit` / `ratelimit-remaining: N;w=W` on every answer it
 * forwards, and answers 429 TOOMANYREQUESTS itself once an identity has none left.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { flattenHeaders } from './registry-client.js';

export interface QuotaProxyOptions {
  /** Pulls per identity per window. */
  readonly limit: number;
  readonly windowSec: number;
  /** Send Retry-After (the rest of the window) with a 429. Default true. */
  readonly retryAfter?: boolean;
}

export interface QuotaRecord {
  readonly method: string;
  readonly path: string;
  readonly identity: string;
  status: number;
}

export interface QuotaProxy {
  readonly url: string;
  readonly requests: QuotaRecord[];
  /** Pulls (manifest GETs answered 200) per identity in its current window. */
  pulls(identity: string): number;
  /** 429s this proxy sent. */
  readonly tooMany: number;
  count(method: string, path: RegExp): number;
  close(): Promise<void>;
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer', 'proxy-connection']);

/** Who the request says it is, as Docker Hub would account it. */
export function identityOf(authorization: string | undefined): string {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic) return Buffer.from(basic[1] ?? '', 'base64').toString('utf8').split(':')[0] ?? 'anonymous';
  const bearer = /^Bearer\s+([^.\s]+)\.([^.\s]+)\.([^.\s]*)$/i.exec(authorization ?? '');
  if (bearer) {
    try {
      const claims = JSON.parse(Buffer.from(bearer[2] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
      if (typeof claims.sub === 'string' && claims.sub !== '') return claims.sub;
    } catch {
      // Not a JWT: fall through.
    }
  }
  return 'anonymous';
}

export async function startQuotaProxy(targetUrl: string, opts: QuotaProxyOptions): Promise<QuotaProxy> {
  const target = new URL(targetUrl);
  const agent = new Agent({ connect: { timeout: 5_000 } });
  const requests: QuotaRecord[] = [];
  const windows = new Map<string, { start: number; used: number }>();
  let tooMany = 0;
  const windowMs = opts.windowSec * 1000;

  const window = (identity: string): { start: number; used: number } => {
    const now = Date.now();
    let w = windows.get(identity);
    if (!w || now - w.start >= windowMs) {
      w = { start: now, used: 0 };
      windows.set(identity, w);
    }
    return w;
  };
  const limitHeaders = (identity: string): Record<string, string> => {
    const remaining = Math.max(0, opts.limit - window(identity).used);
    return { 'ratelimit-limit': `${opts.limit};w=${opts.windowSec}`, 'ratelimit-remaining': `${remaining};w=${opts.windowSec}`, 'docker-ratelimit-source': identity };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    const identity = identityOf(req.headers.authorization);
    const rec: QuotaRecord = { method, path, identity, status: 0 };
    requests.push(rec);
    const counted = method === 'GET' && /\/manifests\/[^/?]+/.test(path);
    if (counted && window(identity).used >= opts.limit) {
      tooMany++;
      rec.status = 429;
      const w = window(identity);
      const retry = Math.max(1, Math.ceil((w.start + windowMs - Date.now()) / 1000));
      const body = JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] });
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...limitHeaders(identity), ...(opts.retryAfter === false ? {} : { 'retry-after': String(retry) }) });
      res.end(body);
      return;
    }
    const headers = Object.fromEntries(Object.entries(flattenHeaders(req.headers)).filter(([k]) => !HOP.has(k)));
    const up = await request(new URL(path, target), { method: method as Dispatcher.HttpMethod, headers, dispatcher: agent });
    if (counted && up.statusCode === 200) window(identity).used++;
    rec.status = up.statusCode;
    const out = Object.fromEntries(Object.entries(flattenHeaders(up.headers)).filter(([k]) => !HOP.has(k)));
    res.writeHead(up.statusCode, up.statusCode === 401 ? out : { ...out, ...limitHeaders(identity) });
    await pipeline(up.body, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const addr = server.address();
  const port = addr && typeof addr !== 'string' ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    pulls: (identity) => windows.get(identity)?.used ?? 0,
    get tooMany(): number {
      return tooMany;
    },
    count: (method, re) => requests.filter((r) => r.method === method && re.test(r.path)).length,
    async close(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await agent.close();
    },
  };
}
