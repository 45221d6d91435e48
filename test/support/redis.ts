/**
 * A throw-away redis-server on a free loopback port, no persistence (`--save '' --appendonly
 * no`). close() kills it by PID and removes its directory. Debian package redis-server.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { createConnection } from 'node:net';
import { freePort } from './ports.js';
import { spawnDaemon } from './proc.js';
import { makeTempDir } from './tempdir.js';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const REDIS_BIN = process.env.BERTH_TEST_REDIS_BIN ?? '/usr/bin/redis-server';

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (b: Buffer) => {
      reply += b.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const tmp = await makeTempDir('redis');
  const port = await freePort();
  const d = spawnDaemon(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp.path, '--protected-mode', 'no']);
  const close = async (): Promise<void> => {
    d.child.kill('SIGKILL');
    await d.exited;
    await tmp.close();
  };
  let exited = false;
  void d.exited.then(() => (exited = true));
  const deadline = Date.now() + 15_000;
  while (!(await ping(port))) {
    if (exited || Date.now() > deadline) {
      await close();
      throw new Error(`redis-server did not start: ${d.output()}`);
    }
    await delay(20);
  }
  return { url: `redis://127.0.0.1:${port}`, port, close };
}
