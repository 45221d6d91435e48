import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request } from 'undici';
import { makeSelfSignedCert } from './certs.js';
import { registryClaims, signRs256, type RegistryAccess } from './jwt.js';
import { basicAuth, type Credentials } from './registry-client.js';
import { makeTempDir } from './tempdir.js';

export interface TokenServerOptions {
  service: string;
  issuer: string;
  /** Accounts granted every action they ask for (pull, push, delete, *): seeding admins. */
  users?: Record<string, string>;
  /** Accounts granted pull only. */
  readOnlyUsers?: Record<string, string>;
  /** Anonymous requests get pull on any repository; otherwise they get 401. */
  allowAnonymous?: boolean;
  tokenTtlSeconds?: number;
  port?: number;
}

export interface TokenRequest {
  method: string;
  /** The requested scopes joined by a space ('' when none). */
  scope: string;
  account?: string;
  authorized: boolean;
  granted: RegistryAccess[];
}

export interface TokenServer {
  url: string;
  /** `${url}/token`: the realm to configure the registry with. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate whose key signs tokens (the registry's rootcertbundle). */
  rootCertBundlePath: string;
  port: number;
  tokenRequests: TokenRequest[];
  /** Signs a token directly, bypassing the HTTP endpoint. */
  issueToken(subject: string, access: RegistryAccess[], ttlSeconds?: number): string;
  close(): Promise<void>;
}

/** Parses `repository:name:pull,push` (the name may contain ':' as in host:port/repo). */
export function parseScope(scope: string): RegistryAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  const actions = scope.slice(last + 1).split(',').filter((a) => a.length > 0);
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * A Docker-Hub-style token server: GET /token?service=&scope= (Basic auth optional) and the
 * OAuth2 form POST /token. Tokens are RS256 JWTs with the signing certificate in `x5c`, which
 * CNCF distribution 2.8 verifies against its rootcertbundle.
 */
export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const tmp = await makeTempDir('token');
  const cert = await makeSelfSignedCert(tmp.path, 'berth-test-token-signer').catch(async (e: unknown) => {
    await tmp.close();
    throw e;
  });
  const ttl = opts.tokenTtlSeconds ?? 300;
  const tokenRequests: TokenRequest[] = [];
  const issueToken = (subject: string, access: RegistryAccess[], ttlSeconds = ttl): string =>
    signRs256(registryClaims({ issuer: opts.issuer, service: opts.service, subject, access, ttlSeconds }), cert.keyPem, [cert.certDerBase64]);

  /** Which actions an account may have; undefined = not authenticated. */
  const allowedFor = (creds: Credentials | undefined): string[] | undefined => {
    if (!creds) return opts.allowAnonymous ? ['pull'] : undefined;
    if (opts.users?.[creds.username] === creds.password) return ['pull', 'push', 'delete', '*'];
    if (opts.readOnlyUsers?.[creds.username] === creds.password) return ['pull'];
    return undefined;
  };

  const grant = (res: ServerResponse, method: string, service: string | null, scopes: string[], creds: Credentials | undefined, oauth: boolean): void => {
    const scope = scopes.join(' ');
    const allowed = allowedFor(creds);
    const account = creds?.username;
    if (service !== null && service !== opts.service) {
      tokenRequests.push({ method, scope, account, authorized: false, granted: [] });
      return json(res, 400, { error: 'invalid_request', details: `unknown service ${service}` });
    }
    if (!allowed) {
      tokenRequests.push({ method, scope, account, authorized: false, granted: [] });
      return json(res, 401, { details: 'incorrect username or password' }, { 'www-authenticate': `Basic realm="${opts.service}"` });
    }
    const granted = scopes
      .map(parseScope)
      .filter((a): a is RegistryAccess => a !== undefined)
      .map((a) => ({ ...a, actions: a.actions.filter((x) => allowed.includes(x)) }));
    tokenRequests.push({ method, scope, account, authorized: true, granted });
    const token = issueToken(account ?? '', granted);
    const body = { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() };
    json(res, 200, oauth ? { ...body, scope } : body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname !== '/token') return json(res, 404, { error: 'not found' });
    if (req.method === 'GET') {
      let creds: Credentials | undefined;
      const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (m) {
        const [username, ...rest] = Buffer.from(m[1] ?? '', 'base64').toString('utf8').split(':');
        creds = { username: username ?? '', password: rest.join(':') };
      }
      return grant(res, 'GET', u.searchParams.get('service'), u.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean), creds, false);
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      if (form.get('grant_type') !== 'password') return json(res, 400, { error: 'unsupported_grant_type' });
      const creds = { username: form.get('username') ?? '', password: form.get('password') ?? '' };
      return grant(res, 'POST', form.get('service'), (form.get('scope') ?? '').split(' ').filter(Boolean), creds, true);
    }
    json(res, 405, { error: 'method not allowed' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => json(res, 500, { error: String(e) }));
  });
  server.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  await once(server, 'listening');
  const addr = server.address();
  const port = addr && typeof addr !== 'string' ? addr.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    realm: `${url}/token`,
    service: opts.service,
    issuer: opts.issuer,
    rootCertBundlePath: cert.certPath,
    port,
    tokenRequests,
    issueToken,
    async close(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await tmp.close();
    },
  };
}

/** Fetches a token for `scope` (e.g. `repository:test/x:pull,push`) from the token server. */
export async function getToken(ts: { realm: string; service: string }, scope: string, user?: Credentials): Promise<string> {
  const u = new URL(ts.realm);
  u.searchParams.set('service', ts.service);
  if (scope) u.searchParams.set('scope', scope);
  const res = await request(u, { method: 'GET', headers: user ? { authorization: basicAuth(user) } : {} });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`getToken ${scope}: ${res.statusCode} ${text}`);
  const body = JSON.parse(text) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new Error(`getToken ${scope}: no token in ${text}`);
  return token;
}
