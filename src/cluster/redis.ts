/**
 * Redis connections for the cluster: commands fail fast while Redis is unreachable (no
 * offline queue), so a node degrades to per-node single flight instead of hanging.
 */
import { Redis } from 'ioredis';

export async function connectRedis(url: string, name: string): Promise<Redis> {
  const redis = new Redis(url, {
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Reconnects are automatic; an error event must not crash the process.
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}
