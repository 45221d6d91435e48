/**
 * The cluster services of a node: Redis connections, the shared tag index, the fill claims
 * and the bucket's ledger. Imported (with ioredis) only when `cluster` is configured.
 */
import { hostname } from 'node:os';
import type { ClusterConfig } from '../config/types.js';
import type { Digest } from '../oci/digest.js';
import type { FillClaim } from '../proxy/fill/fill.js';
import type { BlobInfo } from '../store/blob-store.js';
import { RedisTagIndex, type TagLookupResult, type TagPolicy } from './redis-tag-index.js';
import { BucketLedger } from './bucket-ledger.js';
import { FillClaims, type FillClaimEvents } from './fill-claims.js';
import { Leases } from './lease.js';
import { Notifier } from './notifier.js';
import { PeerClient } from './peer-client.js';
import { connectRedis } from './redis.js';

export interface Cluster {
  readonly tags: RedisTagIndex;
  /** The shared order of use and size of the bucket (storage.maxSize). */
  readonly ledger: BucketLedger;
  readonly claim: (digest: Digest, from?: number) => Promise<FillClaim>;
  close(): Promise<void>;
}

export interface ClusterDeps {
  readonly config: ClusterConfig;
  readonly stat: (digest: Digest) => Promise<BlobInfo | undefined>;
  readonly policyOf: (upstream: string) => TagPolicy;
  readonly events: FillClaimEvents & { tagLookup(result: TagLookupResult): void };
  /** This node's peer listener (address) and the secret peers share; absent: no streaming between nodes. */
  readonly peer?: { readonly address: string; readonly secret: string };
}

export async function openCluster(deps: ClusterDeps): Promise<Cluster> {
  const { config } = deps;
  const nodeId = `${hostname()}:${process.pid}`;
  const redis = await connectRedis(config.redisUrl, `berth-${nodeId}`);
  const subscriber = await connectRedis(config.redisUrl, `berth-sub-${nodeId}`).catch(async (err: unknown) => {
    redis.disconnect();
    throw err;
  });
  const leases = new Leases(redis, config.keyPrefix, nodeId, deps.peer?.address);
  // A peer that sends nothing for a lease TTL is as dead as one whose lease expired.
  const peerClient = deps.peer ? new PeerClient(deps.peer.secret, Math.max(config.leaseTtlMs, 5_000)) : undefined;
  const peers = deps.peer && peerClient ? { self: deps.peer.address, open: peerClient.open.bind(peerClient) } : undefined;
  const notifier = new Notifier(redis, subscriber);
  const tags = new RedisTagIndex(redis, leases, notifier, { prefix: config.keyPrefix, policyOf: deps.policyOf, resolveLeaseMs: 5_000, looked: deps.events.tagLookup });
  const claims = new FillClaims(leases, notifier, deps.stat, { leaseTtlMs: config.leaseTtlMs, waitTimeoutMs: config.waitTimeoutMs, prefix: config.keyPrefix }, deps.events, Date.now, peers);
  const ledger = new BucketLedger(redis, leases, config.keyPrefix, nodeId);
  return {
    tags,
    ledger,
    claim: claims.claim,
    close: async () => {
      await tags.close();
      ledger.close();
      await peerClient?.close();
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
