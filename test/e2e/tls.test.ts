/** TLS: HTTPS with a self-signed certificate, and certificate reloads that keep open connections. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent as HttpsAgent, request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/certs.js';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { spawnBerth } from './cli.js';
import { metricValue, startMirror, writeMirrorConfig, type Mirror } from './harness.js';

interface Answer {
  readonly status: number;
  readonly fingerprint: string;
  readonly socket: TLSSocket;
}

/** One GET over `agent`; reports the certificate the connection was set up with. */
function get(url: string, agent: HttpsAgent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

const fingerprintOf = (c: SelfSignedCert): string => new X509Certificate(c.certPem).fingerprint256;

/** Polls fresh connections until one presents `want`. */
async function waitForCertificate(url: string, ca: string[], want: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  while (Date.now() < deadline) {
    const agent = new HttpsAgent({ ca, keepAlive: false });
    seen = (await get(url, agent)).fingerprint;
    agent.destroy();
    if (seen === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`new connections still get ${seen}, not ${want}`);
}

describe('TLS', () => {
  let registry: Registry;
  let image: ImageFixture;
  let tmp: TempDir;
  let certA: SelfSignedCert;
  let certB: SelfSignedCert;
  let ca: string[];

  before(async () => {
    tmp = await makeTempDir('tls');
    registry = await startRegistry();
    image = await pushImage(registry.url, 'test/tls', '1.0', makeImageSpec({ seed: 'tls', layerSizes: [8 * 1024, 64 * 1024], mediaTypeFamily: 'oci' }));
    for (const d of ['a', 'b']) await mkdir(join(tmp.path, d));
    certA = await makeSelfSignedCert(join(tmp.path, 'a'), 'berth-a');
    certB = await makeSelfSignedCert(join(tmp.path, 'b'), 'berth-b');
    ca = [certA.certPem, certB.certPem];
  });

  after(async () => {
    await registry?.close();
    await tmp?.close();
  });

  /** A directory whose cert.pem / key.pem berth serves, starting with certificate A. */
  async function liveDir(name: string): Promise<{ dir: string; extra: string }> {
    const dir = join(tmp.path, name);
    await mkdir(dir);
    await copyFile(certA.certPath, join(dir, 'cert.pem'));
    await copyFile(certA.keyPath, join(dir, 'key.pem'));
    return { dir, extra: `tls:\n  cert: ${JSON.stringify(join(dir, 'cert.pem'))}\n  key: ${JSON.stringify(join(dir, 'key.pem'))}\n` };
  }

  async function swapToB(dir: string): Promise<void> {
    await writeFile(join(dir, 'key.pem'), await readFile(certB.keyPath));
    await writeFile(join(dir, 'cert.pem'), await readFile(certB.certPath));
  }

  describe('in-process daemon, file watch', () => {
    let mirror: Mirror;
    let live: { dir: string; extra: string };

    before(async () => {
      live = await liveDir('live-watch');
      mirror = await startMirror({ upstreams: { 'docker.io': registry.url }, extra: live.extra });
    });
    after(async () => mirror?.close());

    test('serves HTTPS; skopeo pulls with the CA and verification on', async () => {
      assert.match(mirror.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const certDir = join(tmp.path, 'skopeo-certs');
      await mkdir(certDir);
      await writeFile(join(certDir, 'ca.crt'), certA.certPem);
      const out = join(tmp.path, 'pulled');
      const host = mirror.url.replace('https://', '');
      const r = await skopeoCopy(`docker://${host}/${image.ref}`, `dir:${out}`, { srcTlsVerify: true, srcCertDir: certDir });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await digestOfDir(out), image.digest);
      // Without the CA, verification fails: the certificate really is the one served.
      const bad = await skopeoCopy(`docker://${host}/${image.ref}`, `dir:${join(tmp.path, 'bad')}`, { srcTlsVerify: true });
      assert.notEqual(bad.code, 0);
    });

    test('a changed certificate file is picked up; an open keep-alive connection stays', async () => {
      const keep = new HttpsAgent({ ca, keepAlive: true, maxSockets: 1 });
      const first = await get(`${mirror.url}/v2/`, keep);
      assert.equal(first.status, 200);
      assert.equal(first.fingerprint, fingerprintOf(certA));

      await swapToB(live.dir);
      await waitForCertificate(`${mirror.url}/v2/`, ca, fingerprintOf(certB));

      const again = await get(`${mirror.url}/v2/`, keep);
      assert.equal(again.status, 200);
      assert.equal(again.socket, first.socket, 'the same connection answered');
      assert.equal(again.fingerprint, fingerprintOf(certA), 'the open connection keeps its session');
      keep.destroy();
      assert.equal(await metricValue(mirror.berth.metrics, 'berth_tls_reloads_total', { result: 'reloaded' }), 1);
      const notAfter = await metricValue(mirror.berth.metrics, 'berth_tls_certificate_expiry_timestamp_seconds');
      assert.equal(notAfter, Math.floor(new Date(new X509Certificate(certB.certPem).validTo).getTime() / 1000));
    });
  });

  test('CLI daemon without watching: SIGHUP reloads, open connections stay', async () => {
    const live = await liveDir('live-sighup');
    const config = await writeMirrorConfig(live.dir, join(live.dir, 'data'), {
      upstreams: { 'docker.io': registry.url },
      extra: live.extra.replace(/\n$/, '\n  watch: false\n'),
    });
    const daemon = await spawnBerth(config);
    try {
      const keep = new HttpsAgent({ ca, keepAlive: true, maxSockets: 1 });
      const first = await get(`${daemon.url}/v2/`, keep);
      assert.equal(first.fingerprint, fingerprintOf(certA));

      await swapToB(live.dir);
      daemon.child.kill('SIGHUP');
      const line = await daemon.waitForLog((r) => r.msg === 'tls certificate reloaded');
      assert.equal(line.trigger, 'signal');
      assert.equal(line.fingerprint256, fingerprintOf(certB));
      await waitForCertificate(`${daemon.url}/v2/`, ca, fingerprintOf(certB), 2_000);

      const again = await get(`${daemon.url}/v2/`, keep);
      assert.equal(again.status, 200);
      assert.equal(again.socket, first.socket, 'the same connection answered');
      keep.destroy();
    } finally {
      await daemon.stop();
    }
  });
});
