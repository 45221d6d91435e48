/**
 * Schemas of the scale-out options: `storage.backend`/`storage.s3`/`storage.localCache` (object
 * storage and a local disk cache in front of it) and `cluster` (Redis for shared tags and
 * cluster-wide single-flight fills). Secret sources stay unresolved; scale.ts reads them.
 */
import { z } from 'zod';
import { duration, httpUrl, MAX_TIMER_MS, nonEmptyString, size, strictObject } from './fields.js';
import { envName, inlineSecret, pickSource } from './secrets-schema.js';

const MiB = 1024 * 1024;

export const s3Schema = strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, dashes)'),
  endpoint: httpUrl.optional(),
  region: nonEmptyString.default('us-east-1'),
  forcePathStyle: z.boolean().default(true),
  prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'expected "" or path segments ending in "/", e.g. berth/').default(''),
  accessKeyId: nonEmptyString.optional(),
  secretAccessKey: inlineSecret.optional(),
  secretAccessKeyEnv: envName.optional(),
  secretAccessKeyFile: nonEmptyString.optional(),
  partSize: size.prefault('8MiB').refine((n) => n >= 5 * MiB && n <= 5 * 1024 * MiB, 'must be between 5MiB and 5GiB (S3 part limits)'),
  queueSize: z.number().int('must be a whole number').min(1).max(64).default(4),
  staleUploads: duration({ min: 60_000 }).prefault('1d'),
}).transform((raw, ctx) => {
  const secret = pickSource(raw.secretAccessKey, raw.secretAccessKeyEnv, raw.secretAccessKeyFile);
  if (secret === 'conflict') {
    ctx.addIssue({ code: 'custom', message: 'set only one of secretAccessKey, secretAccessKeyEnv, secretAccessKeyFile' });
    return z.NEVER;
  }
  if ((raw.accessKeyId === undefined) !== (secret === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'set accessKeyId and a secretAccessKey source together, or neither (the AWS environment chain)' });
    return z.NEVER;
  }
  const { secretAccessKey: _a, secretAccessKeyEnv: _b, secretAccessKeyFile: _c, ...rest } = raw;
  return { ...rest, ...(secret !== undefined ? { secret } : {}) };
});

export const localCacheSchema = strictObject({
  path: nonEmptyString,
  maxSize: size.refine((n) => n > 0, 'must be above 0'),
});

export const clusterSchema = strictObject({
  redis: z.string().regex(/^rediss?:\/\/\S+$/, 'expected a redis:// or rediss:// URL'),
  keyPrefix: z.string().regex(/^[A-Za-z0-9:._-]*$/, 'expected letters, digits and : . _ -').default('berth:'),
  leaseTtl: duration({ min: 1_000, max: MAX_TIMER_MS }).prefault('10s'),
  waitTimeout: duration({ min: 1_000, max: MAX_TIMER_MS }).prefault('1h'),
});

export type S3Spec = z.output<typeof s3Schema>;
export type LocalCacheSpec = z.output<typeof localCacheSchema>;
export type ClusterSpec = z.output<typeof clusterSchema>;
