/**
 * The network side of the daemon: the main listener (HTTP, or HTTPS with a reloadable
 * certificate), the optional separate metrics listener, and their graceful close.
 */
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createHttpServer, type BerthServer } from './server.js';
import type { RequestState } from './state.js';
import { readTlsMaterial, TlsReloader, type ReloadOutcome, type TlsFiles } from './tls-reloader.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface ListenerDeps {
  readonly app: Koa<RequestState>;
  readonly listen: Address;
  readonly headersTimeoutMs: number;
  readonly tls?: TlsFiles & { readonly watch: boolean };
  /** A separate listener for /metrics. */
  readonly metrics?: { readonly app: Koa<RequestState>; readonly listen: Address };
  readonly registry: Metrics;
  readonly logger: Logger;
  /** Poll interval for certificate file changes. */
  readonly watchIntervalMs: number;
}

export interface Listeners {
  readonly server: BerthServer;
  readonly url: string;
  readonly metricsUrl?: string;
  /** Re-reads the certificate (SIGHUP); undefined without TLS. */
  reloadTls(): Promise<ReloadOutcome | undefined>;
  close(graceMs: number): Promise<void>;
}

async function listenOn(server: BerthServer, address: Address, scheme: 'http' | 'https'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `${scheme}://${host}:${addr.port}`;
}

async function closeGracefully(server: BerthServer, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A response that finishes during the grace period leaves an idle keep-alive connection,
  // which would hold the close until the deadline: close those as they go idle.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
  await Promise.race([closed, deadline]);
  clearInterval(sweep);
  server.closeAllConnections();
}

export async function startListeners(deps: ListenerDeps): Promise<Listeners> {
  const { logger, registry } = deps;
  let reloader: TlsReloader | undefined;
  let server: BerthServer;
  if (deps.tls) {
    const first = await readTlsMaterial(deps.tls);
    if (!first.ok) throw new Error(`tls: cannot load certificate "${deps.tls.certPath}" and key "${deps.tls.keyPath}": ${first.error}`);
    const tlsServer = createHttpServer(deps.app, { headersTimeoutMs: deps.headersTimeoutMs }, first.material);
    server = tlsServer;
    registry.tlsCertExpiry.set(first.info.notAfter.getTime() / 1000);
    reloader = new TlsReloader(
      {
        files: deps.tls,
        apply: (m) => {
          if ('setSecureContext' in tlsServer) tlsServer.setSecureContext({ cert: m.cert, key: m.key });
        },
        watchIntervalMs: deps.tls.watch ? deps.watchIntervalMs : 0,
        onOutcome: (outcome, trigger) => {
          registry.tlsReloads.inc({ result: outcome.kind });
          if (outcome.kind === 'reloaded') {
            registry.tlsCertExpiry.set(outcome.info.notAfter.getTime() / 1000);
            logger.info({ trigger, fingerprint256: outcome.info.fingerprint256, notAfter: outcome.info.notAfter.toISOString() }, 'tls certificate reloaded');
          } else if (outcome.kind === 'failed') {
            logger.warn({ trigger, error: outcome.error }, 'tls certificate reload failed; keeping the current certificate');
          } else {
            logger.info({ trigger }, 'tls certificate unchanged');
          }
        },
      },
      first.material,
    );
  } else {
    server = createHttpServer(deps.app, { headersTimeoutMs: deps.headersTimeoutMs });
  }
  const url = await listenOn(server, deps.listen, deps.tls ? 'https' : 'http');
  let metricsServer: BerthServer | undefined;
  let metricsUrl: string | undefined;
  if (deps.metrics) {
    metricsServer = createHttpServer(deps.metrics.app, { headersTimeoutMs: deps.headersTimeoutMs });
    try {
      metricsUrl = await listenOn(metricsServer, deps.metrics.listen, 'http');
    } catch (err) {
      await closeGracefully(server, 0);
      throw err;
    }
  }
  reloader?.start();
  return {
    server,
    url,
    ...(metricsUrl !== undefined ? { metricsUrl } : {}),
    reloadTls: async () => reloader?.reload('signal'),
    close: async (graceMs) => {
      reloader?.stop();
      await Promise.all([closeGracefully(server, graceMs), metricsServer ? closeGracefully(metricsServer, 0) : undefined]);
    },
  };
}
