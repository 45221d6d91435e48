/**
 * The zod schema of the user-facing YAML file. Every option has a default declared here in its
 * user-facing form, so parsing `{}` yields the embedded defaults. Durations come out in ms,
 * sizes in bytes, listen as host/port; credentials stay as sources until credentials.ts resolves them.
 */
import { z } from 'zod';
import {
  LOG_LEVELS,
  MAX_TIMER_MS,
  duration,
  httpUrl,
  isRegistryHost,
  listen,
  nonEmptyString,
  registryHost,
  size,
  strictObject,
} from './fields.js';
import { credentialsSchema, type CredentialSpec } from './secrets-schema.js';
import { credentialPoolSchema, type PooledCredentialSpec } from './pool-schema.js';
import { accessSchema, authSchema, tlsSchema } from './security-schema.js';
import { clusterSchema, localCacheSchema, s3Schema } from './scale-schema.js';
import type { UpstreamConfig } from './types.js';

export const DEFAULT_LISTEN = '127.0.0.1:5000';
export const DEFAULT_STORAGE_PATH = './berth-data';
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_URL = 'https://registry-1.docker.io';
export const DOCKER_HUB_ALIASES: readonly string[] = ['index.docker.io', 'registry-1.docker.io'];

/** An upstream as the schema produces it: credentials not yet resolved. */
export type UpstreamSpec = Omit<UpstreamConfig, 'credentials' | 'credentialPool'> & {
  readonly credentials?: CredentialSpec;
  readonly credentialPool?: readonly PooledCredentialSpec[];
};

const timeout = duration({ min: 1, max: MAX_TIMER_MS });

/** A fraction of storage.maxSize. */
const fraction = z.number('expected a number between 0 and 1').gt(0, 'must be above 0').max(1, 'must be at most 1');

/** os/architecture[/variant], as `--platform` takes it. */
const platform = z.string().regex(/^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/, 'expected os/architecture[/variant], e.g. linux/arm64');

const timeoutsSchema = strictObject({
  connect: timeout.prefault('10s'),
  headers: timeout.prefault('30s'),
  idle: timeout.prefault('60s'),
  fillTotal: timeout.prefault('1h'),
});

const upstreamSchema = strictObject({
  url: httpUrl,
  aliases: z.array(registryHost).optional(),
  tagTtl: duration().prefault('5m'),
  maxStale: duration().prefault('7d'),
  revalidate: z.enum(['background', 'first']).default('background'),
  negativeTtl: duration().prefault('30s'),
  connections: z.number().int('must be a whole number').min(1).max(4096).default(16),
  retries: z.number().int('must be a whole number').min(0).max(100).default(2),
  offline: z.boolean().default(false),
  breaker: strictObject({
    failures: z.number().int('must be a whole number').min(0).max(1000).default(5),
    coolDown: duration({ min: 1, max: MAX_TIMER_MS }).prefault('30s'),
  }).prefault(() => ({})),
  timeouts: timeoutsSchema.prefault(() => ({})),
  credentials: credentialsSchema.optional(),
  credentialPool: credentialPoolSchema.optional(),
  quotaFloor: z.number().int('must be a whole number').min(0).max(1_000_000).default(0),
  access: accessSchema.optional(),
}).refine((u) => u.credentials === undefined || u.credentialPool === undefined, {
  message: 'set either credentials or credentialPool, not both',
  path: ['credentialPool'],
});

type RawUpstream = z.output<typeof upstreamSchema>;

function toUpstream(name: string, raw: RawUpstream): UpstreamSpec {
  return {
    name,
    url: raw.url,
    aliases: raw.aliases ?? (name === DOCKER_HUB ? [...DOCKER_HUB_ALIASES] : []),
    tagTtlMs: raw.tagTtl,
    maxStaleMs: raw.maxStale,
    revalidate: raw.revalidate,
    negativeTtlMs: raw.negativeTtl,
    ...(raw.credentials !== undefined && Object.keys(raw.credentials).length > 0
      ? { credentials: raw.credentials }
      : {}),
    ...(raw.credentialPool !== undefined ? { credentialPool: raw.credentialPool } : {}),
    quotaFloor: raw.quotaFloor,
    timeouts: {
      connectMs: raw.timeouts.connect,
      headersMs: raw.timeouts.headers,
      idleMs: raw.timeouts.idle,
      fillTotalMs: raw.timeouts.fillTotal,
    },
    connections: raw.connections,
    retries: raw.retries,
    offline: raw.offline,
    breaker: { failures: raw.breaker.failures, coolDownMs: raw.breaker.coolDown },
    ...(raw.access !== undefined
      ? { access: { ...(raw.access.allow !== undefined ? { allow: raw.access.allow } : {}), anonymous: raw.access.anonymous } }
      : {}),
  };
}

const upstreamName = z
  .string()
  .refine(isRegistryHost, 'upstream names are lowercase registry hosts such as docker.io or registry.example.com:5000');

const upstreamsSchema = z
  .record(upstreamName, upstreamSchema)
  .refine((map) => Object.keys(map).length > 0, 'at least one upstream is required')
  .transform((map): UpstreamSpec[] => Object.entries(map).map(([name, raw]) => toUpstream(name, raw)));

export const fileSchema = strictObject({
  listen: listen.prefault(DEFAULT_LISTEN),
  storage: strictObject({
    path: nonEmptyString.default(DEFAULT_STORAGE_PATH),
    maxSize: size.prefault(0),
    fsync: z.boolean().default(true),
    highWatermark: fraction.default(0.95),
    lowWatermark: fraction.default(0.85),
    backend: z.enum(['fs', 's3']).default('fs'),
    s3: s3Schema.optional(),
    localCache: localCacheSchema.optional(),
  })
    .refine((s) => s.lowWatermark < s.highWatermark, { message: 'lowWatermark must be below highWatermark', path: ['lowWatermark'] })
    .prefault(() => ({})),
  pins: z.array(nonEmptyString).default(() => []),
  pinRefresh: duration({ max: MAX_TIMER_MS }).prefault('1h'),
  prefetch: strictObject({
    images: z.array(nonEmptyString).default(() => []),
    platforms: z.array(platform).default(() => []),
    interval: duration({ max: MAX_TIMER_MS }).prefault('1h'),
  }).prefault(() => ({})),
  defaultUpstream: registryHost.default(DOCKER_HUB),
  offline: z.boolean().default(false),
  shutdownGrace: duration({ max: MAX_TIMER_MS }).prefault('30s'),
  headersTimeout: duration({ min: 100, max: 10 * 60_000 }).prefault('15s'),
  log: strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault(() => ({})),
  metrics: strictObject({
    enabled: z.boolean().default(true),
    listen: listen.optional(),
    requireAuth: z.boolean().default(false),
  }).prefault(() => ({})),
  status: strictObject({ enabled: z.boolean().default(true) }).prefault(() => ({})),
  tls: tlsSchema.optional(),
  auth: authSchema.optional(),
  cluster: clusterSchema.optional(),
  upstreams: upstreamsSchema.prefault(() => ({ [DOCKER_HUB]: { url: DOCKER_HUB_URL } })),
});

/** The parsed file: defaults applied, values converted, paths not yet resolved, secrets not yet read. */
export type FileConfig = z.output<typeof fileSchema>;
