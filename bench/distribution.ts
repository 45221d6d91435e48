/** CNCF distribution in pull-through (proxy) mode, with a fresh cache, registered for teardown. */
import { startRegistry } from '../test/support/registry.js';
import type { Cleanup } from './cleanup.js';

export interface RegistryDaemon {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** Starts `docker-registry`; with remoteUrl it mirrors that registry (proxy mode). */
export async function startDistribution(cleanup: Cleanup, remoteUrl?: string): Promise<RegistryDaemon> {
  const reg = await startRegistry(remoteUrl === undefined ? {} : { proxyRemoteUrl: remoteUrl });
  const close = cleanup.add({ name: `docker-registry ${reg.url}`, close: () => reg.close() });
  return { url: reg.url, pid: reg.pid, close };
}
