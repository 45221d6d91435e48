/**
 * Sets up client authentication from the config: the authenticator (htpasswd loaded, re-read on
 * change and on reload), the per-upstream access policy, and the warning for upstreams whose
 * credentials anyone could use because client auth is off.
 */
import type { Config } from '../config/types.js';
import { AccessPolicy } from '../auth/access.js';
import { Authenticator } from '../auth/authenticator.js';
import type { Logger } from '../observability/logger.js';
import { watchFiles } from '../util/watch-files.js';
import type { ClientAuthDeps } from './client-auth.js';

export interface ClientAccess {
  readonly deps: ClientAuthDeps;
  /** Re-reads the htpasswd file; false when it could not be read (the old users stay). */
  reload(): Promise<boolean>;
  close(): void;
}

export async function setUpClientAccess(config: Config, logger: Logger, watchIntervalMs: number): Promise<ClientAccess> {
  const auth = config.auth;
  const authenticator = auth
    ? new Authenticator({ tokens: auth.tokens, ...(auth.htpasswdPath !== undefined ? { htpasswdPath: auth.htpasswdPath } : {}) })
    : undefined;
  const reload = async (): Promise<boolean> => {
    const loaded = await authenticator?.load();
    if (!loaded) return true;
    if (!loaded.ok) {
      logger.warn({ error: loaded.error }, 'htpasswd file could not be read; keeping the previous users');
      return false;
    }
    for (const s of loaded.skipped) logger.warn({ line: s.line, user: s.user, reason: s.reason }, 'htpasswd entry skipped');
    logger.info({ users: loaded.users }, 'htpasswd loaded');
    return true;
  };
  if (!(await reload())) throw new Error(`auth.htpasswd: cannot read "${auth?.htpasswdPath ?? ''}"`);
  const path = auth?.htpasswdPath;
  const unwatch = path !== undefined ? watchFiles([path], watchIntervalMs, () => void reload()) : undefined;
  if (!auth) {
    for (const u of config.upstreams.filter((x) => x.credentials !== undefined || x.credentialPool !== undefined)) {
      logger.warn({ upstream: u.name }, 'upstream has credentials but client auth is off: anyone who reaches berth can pull through them');
    }
  }
  return {
    deps: {
      ...(authenticator ? { authenticator } : {}),
      policy: new AccessPolicy(auth !== undefined, config.upstreams.map((u) => [u.name, u.access] as const)),
      realm: auth?.realm ?? 'berth',
      metricsRequireAuth: config.metrics.requireAuth,
    },
    reload,
    close: () => unwatch?.(),
  };
}
