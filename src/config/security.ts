/**
 * The serving-side security options: `tls`, client `auth` and each upstream's `access` rule.
 * The schemas keep secret sources; buildSecurity checks files readable, reads token secrets and
 * checks every upstream's access rule against auth. Errors name keys and files, never secrets.
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { formatPath } from './errors.js';
import { nonEmptyString, strictObject } from './fields.js';
import { envName, inlineSecret, pickSource, readSecret, type Resolved } from './secrets.js';

/** A client name: an htpasswd user or a token's name. No ':' (Basic auth splits on it). */
export const clientName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'expected a name of letters, digits and . _ @ - (no spaces or colons)');

export const tlsSchema = strictObject({
  cert: nonEmptyString,
  key: nonEmptyString,
  /** Reload when either file changes (SIGHUP always reloads). */
  watch: z.boolean().default(true),
}).transform(({ cert, key, watch }) => ({ certPath: cert, keyPath: key, watch }));

const tokenSchema = strictObject({
  name: clientName,
  token: inlineSecret.optional(),
  tokenEnv: envName.optional(),
  tokenFile: nonEmptyString.optional(),
}).transform((raw, ctx) => {
  const token = pickSource(raw.token, raw.tokenEnv, raw.tokenFile);
  if (token === undefined || token === 'conflict') {
    ctx.addIssue({ code: 'custom', message: 'set exactly one of token, tokenEnv, tokenFile' });
    return z.NEVER;
  }
  return { name: raw.name, token };
});

/** A realm goes into a quoted header parameter: no quotes, backslashes or line breaks. */
const realm = z.string().regex(/^[^"\\\r\n\0]{1,128}$/, 'expected 1-128 characters without quotes or backslashes');

/** Client authentication; absent = off (anyone who reaches berth may pull). */
export const authSchema = strictObject({
  realm: realm.default('berth'),
  htpasswd: nonEmptyString.optional(),
  tokens: z.array(tokenSchema).default([]),
})
  .superRefine((raw, ctx) => {
    if (raw.htpasswd === undefined && raw.tokens.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'client auth needs an htpasswd file or at least one token (remove the auth block to turn it off)' });
    }
    const seen = new Set<string>();
    raw.tokens.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `"${t.name}" is used by another token` });
      seen.add(t.name);
    });
  })
  .transform(({ htpasswd, ...rest }) => ({ ...rest, ...(htpasswd !== undefined ? { htpasswdPath: htpasswd } : {}) }));

/** Who may pull through an upstream when client auth is on. */
export const accessSchema = strictObject({
  /** Client names (htpasswd users, token names) allowed; absent = every authenticated client. */
  allow: z.array(clientName).optional(),
  /** Serve this upstream to clients without credentials too. */
  anonymous: z.boolean().default(false),
}).superRefine((raw, ctx) => {
  if (raw.anonymous && raw.allow !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['allow'], message: 'an allow list contradicts anonymous: true' });
  }
});

type TlsSpec = z.output<typeof tlsSchema>;
type AuthSpec = z.output<typeof authSchema>;

/** What checkAccess needs of an upstream. */
interface AccessHolder {
  readonly name: string;
  readonly access?: z.output<typeof accessSchema> | undefined;
  readonly credentials?: object | undefined;
  readonly credentialPool?: readonly object[] | undefined;
}

function readablePath(file: string, key: string, cwd: string, errors: string[]): string {
  const path = resolve(cwd, file);
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    errors.push(`${key}: cannot read file "${path}" (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  return path;
}

function buildTls(spec: TlsSpec, cwd: string, errors: string[]): TlsSpec {
  return {
    certPath: readablePath(spec.certPath, 'tls.cert', cwd, errors),
    keyPath: readablePath(spec.keyPath, 'tls.key', cwd, errors),
    watch: spec.watch,
  };
}

function buildAuth(spec: AuthSpec, env: NodeJS.ProcessEnv, cwd: string, errors: string[]): Resolved<AuthSpec> {
  const tokens: Resolved<AuthSpec>['tokens'] = [];
  const values = new Set<string>();
  spec.tokens.forEach((t, i) => {
    const key = formatPath(['auth', 'tokens', i]);
    const read = readSecret(t.token, env, cwd);
    if (!read.ok) {
      errors.push(`${key}: ${read.error}`);
      return;
    }
    if (values.has(read.value)) errors.push(`${key}: the same token is given to two names`);
    values.add(read.value);
    tokens.push({ name: t.name, token: read.value });
  });
  return {
    realm: spec.realm,
    tokens,
    ...(spec.htpasswdPath !== undefined ? { htpasswdPath: readablePath(spec.htpasswdPath, 'auth.htpasswd', cwd, errors) } : {}),
  };
}

/** Access rules only mean something with client auth; a private upstream is never opened to anonymous clients. */
function checkAccess(upstreams: readonly AccessHolder[], authOn: boolean, errors: string[]): void {
  for (const u of upstreams) {
    const key = formatPath(['upstreams', u.name, 'access']);
    if (u.access?.allow !== undefined && !authOn) {
      errors.push(`${key}.allow: needs client authentication (an auth block); without it anyone may pull`);
    }
    if (u.access?.anonymous === true && (u.credentials !== undefined || u.credentialPool !== undefined)) {
      errors.push(`${key}.anonymous: an upstream with credentials cannot be opened to anonymous clients`);
    }
  }
}

export function buildSecurity(
  file: { readonly tls?: TlsSpec | undefined; readonly auth?: AuthSpec | undefined },
  upstreams: readonly AccessHolder[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  errors: string[],
): { tls?: TlsSpec; auth?: Resolved<AuthSpec> } {
  const tls = file.tls !== undefined ? buildTls(file.tls, cwd, errors) : undefined;
  const auth = file.auth !== undefined ? buildAuth(file.auth, env, cwd, errors) : undefined;
  checkAccess(upstreams, auth !== undefined, errors);
  return { ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
}
