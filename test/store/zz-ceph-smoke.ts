import { startCeph } from '../support/ceph.js';
import { startRedis } from '../support/redis.js';
const t0 = Date.now();
const c = await startCeph();
console.log('ceph up', Date.now() - t0, c.endpoint);
const r = await startRedis();
console.log('redis up', Date.now() - t0, r.url);
await c.close(); await r.close();
console.log('closed', Date.now() - t0);
