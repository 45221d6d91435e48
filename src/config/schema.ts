/**
 * The zod schema of the user-facing YAML file, and through its output the type of the Config
 * (types.ts). Every option has a default declared here in its user-facing form, so parsing `{}`
 * yields the embedded defaults. Secrets stay as sources until build.ts reads them.
 */
import { z } from 'zod';
import { duration, MAX_TIMER_MS, msObject } from './durations.js';
import { LOG_LEVELS, httpUrl, isRegistryHost, listen, nonEmptyString, registryHost, size, strictObject } from './fields.js';
import { credentialPoolSchema } from './pool.js';
import { clusterSchema, localCacheSchema, s3Schema } from './scale.js';
import { credentialsSchema } from './secrets.js';
import { accessSchema, authSchema, tlsSchema } from './security.js';

export const DEFAULT_LISTEN = '127.0.0.1:5000';
export const DEFAULT_STORAGE_PATH = './berth-data';
export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_URL = 'https://registry-1.docker.io';
export const DOCKER_HUB_ALIASES: readonly string[] = ['index.docker.io', 'registry-1.docker.io'];

const timeout = duration({ min: 1, max: MAX_TIMER_MS });

/** A fraction of storage.maxSize. */
const fraction = z.number('expected a number between 0 and 1').gt(0, 'must be above 0').max(1, 'must be at most 1');

/** os/architecture[/variant], as `--platform` takes it. */
const platform = z.string().regex(/^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/, 'expected os/architecture[/variant], e.g. linux/arm64');

const timeoutsSchema = msObject({
  connect: timeout.prefault('10s'),
  headers: timeout.prefault('30s'),
  /** A body that sends nothing for this long is abandoned. */
  idle: timeout.prefault('60s'),
  /** Whole-fill deadline for one blob. */
  fillTotal: timeout.prefault('1h'),
});

const upstreamSchema = msObject({
  url: httpUrl,
  aliases: z.array(registryHost).optional(),
  tagTtl: duration().prefault('5m'),
  /** How long past the TTL a cached tag may still be served when the upstream fails. */
  maxStale: duration().prefault('7d'),
  /** background: stale-while-revalidate; first: revalidate before answering. */
  revalidate: z.enum(['background', 'first']).default('background'),
  negativeTtl: duration().prefault('30s'),
  /** Upstream connections at once, for every fill together: a big blob cannot starve the others. */
  connections: z.number().int('must be a whole number').min(1).max(4096).default(16),
  /** Blobs of at least minSize are fetched as this many parallel Range requests (1: one stream). */
  parallelFetch: strictObject({
    minSize: size.prefault('32MiB'),
    connections: z.number().int('must be a whole number').min(1).max(16).default(4),
  }).prefault(() => ({})),
  retries: z.number().int('must be a whole number').min(0).max(100).default(2),
  offline: z.boolean().default(false),
  /** Consecutive failed requests (failures, 0 = never) that stop dialling for coolDown. */
  breaker: msObject({
    failures: z.number().int('must be a whole number').min(0).max(1000).default(5),
    coolDown: duration({ min: 1, max: MAX_TIMER_MS }).prefault('30s'),
  }).prefault(() => ({})),
  timeouts: timeoutsSchema.prefault(() => ({})),
  credentials: credentialsSchema.optional(),
  /** Several accounts for one upstream: each manifest GET uses the one with the most quota left. */
  credentialPool: credentialPoolSchema.optional(),
  /** Below this many remaining pulls (best credential), cached tags within maxStale are not revalidated. 0 = off. */
  quotaFloor: z.number().int('must be a whole number').min(0).max(1_000_000).default(0),
  /** Client access rule; absent = every authenticated client, no anonymous one. */
  access: accessSchema.optional(),
}).refine((u) => u.credentials === undefined || u.credentialPool === undefined, {
  message: 'set either credentials or credentialPool, not both',
  path: ['credentialPool'],
});

/** Adds the name and docker.io's default aliases; an empty credentials block means none. */
function toUpstream(name: string, raw: z.output<typeof upstreamSchema>) {
  const { aliases, credentials, credentialPool, access, ...rest } = raw;
  return {
    name,
    ...rest,
    aliases: aliases ?? (name === DOCKER_HUB ? [...DOCKER_HUB_ALIASES] : []),
    ...(credentials !== undefined && Object.keys(credentials).length > 0 ? { credentials } : {}),
    ...(credentialPool !== undefined ? { credentialPool } : {}),
    ...(access !== undefined ? { access } : {}),
  };
}

const upstreamName = z
  .string()
  .refine(isRegistryHost, 'upstream names are lowercase registry hosts such as docker.io or registry.example.com:5000');

const upstreamsSchema = z
  .record(upstreamName, upstreamSchema)
  .refine((map) => Object.keys(map).length > 0, 'at least one upstream is required')
  .transform((map) => Object.entries(map).map(([name, raw]) => toUpstream(name, raw)));

export const fileSchema = msObject({
  listen: listen.prefault(DEFAULT_LISTEN),
  storage: strictObject({
    path: nonEmptyString.default(DEFAULT_STORAGE_PATH),
    /** 0 = unbounded. */
    maxSize: size.prefault(0),
    fsync: z.boolean().default(true),
    /** Fractions of maxSize: above high, evict least recently used content until below low. */
    highWatermark: fraction.default(0.95),
    lowWatermark: fraction.default(0.85),
    /** Where blobs live: the local disk (fs) or S3-compatible object storage (s3, with `s3`). */
    backend: z.enum(['fs', 's3']).default('fs'),
    s3: s3Schema.optional(),
    localCache: localCacheSchema.optional(),
  })
    .refine((s) => s.lowWatermark < s.highWatermark, { message: 'lowWatermark must be below highWatermark', path: ['lowWatermark'] })
    .prefault(() => ({})),
  /** Image references or globs whose content is never evicted. */
  pins: z.array(nonEmptyString).default(() => []),
  /** How often pinned images are fetched again; 0 = never. */
  pinRefresh: duration({ max: MAX_TIMER_MS }).prefault('1h'),
  /** Images fetched at start and every interval (0 = only at start), only these platforms when set. */
  prefetch: msObject({
    images: z.array(nonEmptyString).default(() => []),
    platforms: z.array(platform).default(() => []),
    interval: duration({ max: MAX_TIMER_MS }).prefault('1h'),
  }).prefault(() => ({})),
  defaultUpstream: registryHost.default(DOCKER_HUB),
  offline: z.boolean().default(false),
  shutdownGrace: duration({ max: MAX_TIMER_MS }).prefault('30s'),
  /** Serving processes on the data directory: `auto` is one per CPU, at most 8 (1 with object storage). */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
  /** A client must send its whole request head within this time (slowloris bound). */
  headersTimeout: duration({ min: 100, max: 10 * 60_000 }).prefault('15s'),
  log: strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault(() => ({})),
  metrics: strictObject({
    enabled: z.boolean().default(true),
    /** A separate plain-HTTP listener for /metrics; absent = served on the main listener. */
    listen: listen.optional(),
    /** With client auth on, /metrics needs credentials too. */
    requireAuth: z.boolean().default(false),
  }).prefault(() => ({})),
  /** The status page at / and /status.json (behind client auth when that is on). */
  status: strictObject({ enabled: z.boolean().default(true) }).prefault(() => ({})),
  tls: tlsSchema.optional(),
  auth: authSchema.optional(),
  cluster: clusterSchema.optional(),
  /** docker.io is the default route. */
  upstreams: upstreamsSchema.prefault(() => ({ [DOCKER_HUB]: { url: DOCKER_HUB_URL } })),
});

/**
 * The parsed file in the shape the code reads (durations in ms under `Ms` names, sizes in bytes,
 * listen as host/port): defaults applied, paths not yet resolved, secrets not yet read.
 */
export type FileConfig = z.output<typeof fileSchema>;
