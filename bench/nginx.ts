/** nginx serving one file statically (sendfile), as the "disk speed" reference for blob GETs. */
import { createWriteStream } from 'node:fs';
import { link, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { blobStream, type BlobContent } from '../test/support/blobgen.js';
import { freePort } from '../test/support/ports.js';
import { spawnDaemon, type Daemon } from '../test/support/proc.js';
import { makeTempDir } from '../test/support/tempdir.js';
import { waitForHttp } from '../test/support/wait.js';
import type { Cleanup } from './cleanup.js';

export const NGINX_BIN = process.env.BENCH_NGINX_BIN ?? '/usr/sbin/nginx';

export interface NginxServer {
  /** URL of the served file. */
  fileUrl: string;
  pid: number;
  /** 'hardlink' when it serves berth's cached file itself, 'copy' when it wrote its own. */
  source: 'hardlink' | 'copy';
  close(): Promise<void>;
}

function nginxConf(prefix: string, root: string, port: number): string {
  const asRoot = process.getuid?.() === 0 ? 'user root root;\n' : '';
  return `${asRoot}daemon off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}

/**
 * Serves `blob` at /<hex>. `cachedFile`, when given, is hard-linked (the very file berth serves,
 * same inode and page cache); otherwise, or if linking fails, the bytes are written anew.
 */
export async function startNginx(cleanup: Cleanup, blob: BlobContent, cachedFile?: string): Promise<NginxServer> {
  const tmp = await makeTempDir('bench-nginx');
  const root = join(tmp.path, 'root');
  await mkdir(root);
  const name = blob.digest.replace('sha256:', '');
  const dest = join(root, name);
  let source: NginxServer['source'] = 'copy';
  try {
    if (cachedFile === undefined) throw new Error('no cached file');
    await link(cachedFile, dest);
    source = 'hardlink';
  } catch {
    await pipeline(blobStream(blob), createWriteStream(dest));
  }
  const port = await freePort();
  const confPath = join(tmp.path, 'nginx.conf');
  await writeFile(confPath, nginxConf(tmp.path, root, port));
  let daemon: Daemon | undefined;
  const close = cleanup.add({
    name: 'nginx',
    close: async () => {
      await daemon?.stop(5_000);
      await tmp.close();
    },
  });
  daemon = spawnDaemon(NGINX_BIN, ['-p', tmp.path, '-c', confPath, '-e', join(tmp.path, 'error.log')], { cwd: tmp.path });
  const d = daemon;
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${base}/`, { deadlineMs: 10_000, abortOn: d.exited, describe: () => `nginx output:\n${d.output()}` });
  } catch (e) {
    await close();
    throw e;
  }
  return { fileUrl: `${base}/${name}`, pid: d.pid, source, close };
}
