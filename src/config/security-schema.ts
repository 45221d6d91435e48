/**
 * Schemas of the serving-side security options: `tls`, client `auth` and each upstream's
 * `access` rule. Secret sources stay unresolved here; security.ts reads them.
 */
import { z } from 'zod';
import { nonEmptyString, strictObject } from './fields.js';
import { envName, inlineSecret, pickSource, type SecretSource } from './secrets-schema.js';

/** A client name: an htpasswd user or a token's name. No ':' (Basic auth splits on it). */
export const clientName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'expected a name of letters, digits and . _ @ - (no spaces or colons)');

export const tlsSchema = strictObject({
  cert: nonEmptyString,
  key: nonEmptyString,
  watch: z.boolean().default(true),
});

export interface ClientTokenSpec {
  readonly name: string;
  readonly token: SecretSource;
}

const tokenSchema = strictObject({
  name: clientName,
  token: inlineSecret.optional(),
  tokenEnv: envName.optional(),
  tokenFile: nonEmptyString.optional(),
}).transform((raw, ctx): ClientTokenSpec => {
  const token = pickSource(raw.token, raw.tokenEnv, raw.tokenFile);
  if (token === undefined || token === 'conflict') {
    ctx.addIssue({ code: 'custom', message: 'set exactly one of token, tokenEnv, tokenFile' });
    return z.NEVER;
  }
  return { name: raw.name, token };
});

/** A realm goes into a quoted header parameter: no quotes, backslashes or line breaks. */
const realm = z.string().regex(/^[^"\\\r\n\0]{1,128}$/, 'expected 1-128 characters without quotes or backslashes');

export const authSchema = strictObject({
  realm: realm.default('berth'),
  htpasswd: nonEmptyString.optional(),
  tokens: z.array(tokenSchema).default([]),
}).superRefine((raw, ctx) => {
  if (raw.htpasswd === undefined && raw.tokens.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'client auth needs an htpasswd file or at least one token (remove the auth block to turn it off)' });
  }
  const seen = new Set<string>();
  raw.tokens.forEach((t, i) => {
    if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `"${t.name}" is used by another token` });
    seen.add(t.name);
  });
});

export const accessSchema = strictObject({
  allow: z.array(clientName).optional(),
  anonymous: z.boolean().default(false),
}).superRefine((raw, ctx) => {
  if (raw.anonymous && raw.allow !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['allow'], message: 'an allow list contradicts anonymous: true' });
  }
});

export type TlsSpec = z.output<typeof tlsSchema>;
export type AuthSpec = z.output<typeof authSchema>;
export type AccessSpec = z.output<typeof accessSchema>;
