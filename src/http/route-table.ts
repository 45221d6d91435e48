/**
 * The route table: which route a request is, from its method and path alone, before any
 * parameter is parsed. One answer names the route in access logs and metrics, tells client auth
 * what is open, and drives dispatch (api-routes.ts) and parsing (request.ts).
 */

export type RouteName = 'healthz' | 'readyz' | 'metrics' | 'status' | 'base' | 'manifest' | 'blob' | 'tags' | 'referrers' | 'write' | 'unknown';

/**
 * Who may call a route before it decides per upstream (client-auth.ts):
 * - `open`: anyone, client auth or not (health probes);
 * - `metrics`: open unless `metrics.requireAuth`, then like `root`;
 * - `root`: the API root, where clients discover that a registry wants credentials, so an
 *   anonymous client is challenged whenever client auth is on;
 * - `api`: a registry API path; an anonymous client is challenged when no upstream is anonymous;
 * - `page`: any other path (the status page checks its own client).
 */
export type RouteAccess = 'open' | 'metrics' | 'root' | 'api' | 'page';

export interface RequestRoute {
  readonly name: RouteName;
  readonly access: RouteAccess;
}

/** The registry API paths below /v2/, in the order they are tried; the name is group 1. */
export const API_PATHS = {
  upload: /^\/v2\/(.+)\/blobs\/uploads(?:\/.*)?$/,
  manifest: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
  blob: /^\/v2\/(.+)\/blobs\/([^/]+)$/,
  tags: /^\/v2\/(.+)\/tags\/list$/,
  referrers: /^\/v2\/(.+)\/referrers\/([^/]+)$/,
} as const;

const route = (name: RouteName, access: RouteAccess): RequestRoute => ({ name, access });

const FIXED: ReadonlyMap<string, RequestRoute> = new Map([
  ['/healthz', route('healthz', 'open')],
  ['/readyz', route('readyz', 'open')],
  ['/metrics', route('metrics', 'metrics')],
]);
const PAGES: ReadonlySet<string> = new Set(['/', '/status.json']);
const STATUS = route('status', 'page');
const UNKNOWN_PAGE = route('unknown', 'page');
const BASE = route('base', 'root');
const ROOT_WRITE = route('write', 'root');
const WRITE = route('write', 'api');
const UNKNOWN_API = route('unknown', 'api');
const API: Readonly<Record<keyof typeof API_PATHS, RequestRoute>> = {
  upload: WRITE,
  manifest: route('manifest', 'api'),
  blob: route('blob', 'api'),
  tags: route('tags', 'api'),
  referrers: route('referrers', 'api'),
};

export function isReadMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

export function classifyRoute(method: string, path: string): RequestRoute {
  const fixed = FIXED.get(path);
  if (fixed) return fixed;
  const read = isReadMethod(method);
  if (PAGES.has(path)) return read ? STATUS : UNKNOWN_PAGE;
  if (path === '/v2' || path === '/v2/') return read ? BASE : ROOT_WRITE;
  if (!path.startsWith('/v2/')) return UNKNOWN_PAGE;
  // A mirror is read-only: every other method on the API is a write, whatever the path.
  if (!read) return WRITE;
  for (const [kind, re] of Object.entries(API_PATHS) as Array<[keyof typeof API_PATHS, RegExp]>) {
    if (re.test(path)) return API[kind];
  }
  return UNKNOWN_API;
}
