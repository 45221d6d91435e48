import { randomBytes, sign } from 'node:crypto';

export interface RegistryAccess {
  type: string;
  name: string;
  actions: string[];
}

export interface RegistryClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: RegistryAccess[];
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** Signs a compact JWS with RS256 (RSASSA-PKCS1-v1_5 + SHA-256), x5c in the header. */
export function signRs256(claims: object, keyPem: string, x5c: string[]): string {
  const header = { typ: 'JWT', alg: 'RS256', x5c };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), keyPem);
  return `${input}.${b64url(sig)}`;
}

/** Claims as CNCF distribution 2.8's token auth checks them (iss, aud, exp/nbf, access). */
export function registryClaims(opts: {
  issuer: string;
  service: string;
  subject: string;
  access: RegistryAccess[];
  ttlSeconds: number;
  now?: number;
}): RegistryClaims {
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  return {
    iss: opts.issuer,
    sub: opts.subject,
    aud: opts.service,
    exp: now + opts.ttlSeconds,
    nbf: now - 10,
    iat: now,
    jti: randomBytes(12).toString('hex'),
    access: opts.access,
  };
}

/** Decodes a JWT's payload without verifying it (for assertions in tests). */
export function decodeJwtPayload(token: string): unknown {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}
