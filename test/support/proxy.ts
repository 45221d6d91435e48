import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { Pacer } from './pacer.js';
import { FaultSet, faultLabel, registryErrorBody, type Fault, type FaultHandle } from './proxy-faults.js';
import { pumpBody } from './proxy-pump.js';
import { flattenHeaders } from './registry-client.js';

export { rateLimitFault, registryErrorBody, type Fault, type FaultHandle } from './proxy-faults.js';

export interface ProxyRecord {
  id: number;
  method: string;
  /** Path and query as received. */
  path: string;
  /** 0 until the answer's headers went out. */
  status: number;
  /** Response body bytes sent to the client so far. */
  bytes: number;
  requestHeaders: Record<string, string>;
  fault?: string;
  done: boolean;
  error?: string;
}

export interface BodyProgress {
  method: string;
  path: string;
  bytesSoFar: number;
  record: ProxyRecord;
}

export interface FaultProxyOptions {
  /** Global bandwidth cap over all responses (benchmarks). */
  bytesPerSec?: number;
  port?: number;
  /** Decides faults with a `chance` (default Math.random); a seeded source replays a run. */
  random?: () => number;
}

const HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect'];

function stripHop(h: Record<string, string>): Record<string, string> {
  const drop = new Set([...HOP, ...(h.connection ?? '').split(',').map((s) => s.trim().toLowerCase())]);
  return Object.fromEntries(Object.entries(h).filter(([k]) => !drop.has(k)));
}

const withoutRange = (h: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'range'));

const pathOnly = (p: string): string => p.split('?')[0] ?? p;

function matches(r: ProxyRecord, method: string | undefined, path: RegExp): boolean {
  path.lastIndex = 0;
  return (method === undefined || method === '*' || r.method === method.toUpperCase()) && path.test(r.path);
}

/**
 * A counting, fault-injecting reverse proxy on 127.0.0.1. Events: 'request', 'response',
 * 'bodyProgress' (BodyProgress), 'done' (ProxyRecord).
 */
export class FaultProxy extends EventEmitter {
  readonly requests: ProxyRecord[] = [];
  readonly faults: FaultSet;
  port = 0;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private readonly agent = new Agent({ headersTimeout: 0, bodyTimeout: 0, connect: { timeout: 5_000 } });
  private readonly target: URL;
  private globalPacer: Pacer | undefined;
  private closed = false;
  private nextId = 1;

  constructor(targetUrl: string, opts: FaultProxyOptions = {}) {
    super();
    // Every waitForBytes/waitForRequest caller listens until its condition holds; load tests have many.
    this.setMaxListeners(0);
    this.faults = new FaultSet(opts.random);
    this.target = new URL(targetUrl);
    this.port = opts.port ?? 0;
    this.setBandwidth(opts.bytesPerSec);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests per "METHOD /path" (query stripped). */
  get counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) {
      const k = `${r.method} ${pathOnly(r.path)}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /** Requests whose method matches (any when undefined or '*') and whose path+query matches. */
  count(method: string | undefined, path: RegExp): number {
    return this.requests.filter((r) => matches(r, method, path)).length;
  }

  fault(f: Fault): FaultHandle {
    return this.faults.add(f);
  }

  /** Forgets recorded requests and removes every fault. */
  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
  }

  setBandwidth(bytesPerSec: number | undefined): void {
    this.globalPacer = bytesPerSec ? new Pacer(bytesPerSec) : undefined;
  }

  async startListening(): Promise<void> {
    if (this.server.listening) return;
    this.server.listen({ host: '127.0.0.1', port: this.port });
    await once(this.server, 'listening');
    const addr = this.server.address();
    if (addr && typeof addr !== 'string') this.port = addr.port;
  }

  /** Closes the listener and every open connection: new connections are refused for real. */
  async stopListening(): Promise<void> {
    if (!this.server.listening) return;
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emit('closing');
    await this.stopListening();
    await this.agent.destroy();
  }

  /** Resolves with the n-th matching request once it has arrived (already recorded ones count). */
  waitForRequest(method: string | undefined, path: RegExp, n = 1): Promise<ProxyRecord> {
    const nth = (): ProxyRecord | undefined => this.requests.filter((r) => matches(r, method, path))[n - 1];
    return this.waitFor('request', nth);
  }

  /** Resolves once a matching response body has sent at least `bytes` bytes. */
  waitForBytes(method: string | undefined, path: RegExp, bytes: number): Promise<ProxyRecord> {
    return this.waitFor('bodyProgress', () => this.requests.find((r) => matches(r, method, path) && r.bytes >= bytes));
  }

  /** Checks `find` now and after each `event` until it yields a record; rejects if the proxy closes. */
  private waitFor(event: string, find: () => ProxyRecord | undefined): Promise<ProxyRecord> {
    const hit = find();
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const onEvent = (): void => {
        const r = find();
        if (!r) return;
        cleanup();
        resolve(r);
      };
      const onClose = (): void => {
        cleanup();
        reject(new Error('proxy closed'));
      };
      const cleanup = (): void => {
        this.off(event, onEvent);
        this.off('closing', onClose);
      };
      this.on(event, onEvent);
      this.on('closing', onClose);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = req.url ?? '/';
    const rec: ProxyRecord = { id: this.nextId++, method, path, status: 0, bytes: 0, requestHeaders: flattenHeaders(req.headers), done: false };
    this.requests.push(rec);
    const f = this.faults.take(method, path);
    if (f) rec.fault = faultLabel(f);
    res.once('close', () => {
      rec.done = true;
      this.emit('done', rec);
    });
    this.emit('request', rec);
    try {
      await this.serve(req, res, rec, f);
    } catch (e) {
      rec.error = e instanceof Error ? e.message : String(e);
      if (!res.headersSent) {
        rec.status = 502;
        res.writeHead(502, { 'content-type': 'application/json' }).end(registryErrorBody(502, rec.error));
      } else {
        res.destroy();
      }
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, rec: ProxyRecord, f: Fault | undefined): Promise<void> {
    if (f?.drop) return void res.socket?.destroy();
    if (f?.hang) {
      if (!this.closed) await Promise.race([once(res, 'close'), once(this, 'closing')]);
      return void res.destroy();
    }
    if (f?.delayMs) await delay(f.delayMs);
    if (f?.status !== undefined) {
      req.resume();
      const body = f.body ?? registryErrorBody(f.status);
      rec.status = f.status;
      res.writeHead(f.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...f.headers });
      rec.bytes = rec.method === 'HEAD' ? 0 : Buffer.byteLength(body);
      return void res.end(body);
    }
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    const up = await request(new URL(rec.path, this.target), {
      method: rec.method as Dispatcher.HttpMethod,
      headers: f?.ignoreRange ? stripHop(withoutRange(rec.requestHeaders)) : stripHop(rec.requestHeaders),
      body: hasBody ? req : null,
      dispatcher: this.agent,
    });
    const headers = stripHop(flattenHeaders(up.headers));
    if (headers.location?.startsWith(this.target.origin)) {
      headers.location = this.url + headers.location.slice(this.target.origin.length);
    }
    rec.status = up.statusCode;
    res.writeHead(up.statusCode, headers);
    this.emit('response', rec);
    const pacers: Pacer[] = [];
    if (f?.throttleBytesPerSec) pacers.push(new Pacer(f.throttleBytesPerSec));
    if (this.globalPacer) pacers.push(this.globalPacer);
    const cutAt = f?.resetAfterBytes ?? f?.stallAfterBytes;
    await pumpBody(up.body, res, {
      corruptAt: f?.corrupt,
      cutAt,
      cutMode: f?.resetAfterBytes !== undefined ? 'reset' : 'stall',
      pacers,
      onBytes: (n) => {
        rec.bytes = n;
        this.emit('bodyProgress', { method: rec.method, path: rec.path, bytesSoFar: n, record: rec });
      },
    });
  }
}

/** Starts a FaultProxy in front of targetUrl on a free 127.0.0.1 port (or opts.port). */
export async function startFaultProxy(targetUrl: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  const p = new FaultProxy(targetUrl, opts);
  await p.startListening();
  return p;
}
