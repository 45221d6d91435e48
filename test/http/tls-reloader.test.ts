/** Certificate reloads: a matching new pair is applied, an unchanged or broken one is not. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readTlsMaterial, TlsReloader, type ReloadOutcome, type TlsMaterial } from '../../src/http/tls-reloader.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/certs.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';

describe('TlsReloader', () => {
  let tmp: TempDir;
  let a: SelfSignedCert;
  let b: SelfSignedCert;

  before(async () => {
    tmp = await makeTempDir('tls-reloader');
    await mkdir(join(tmp.path, 'a'));
    await mkdir(join(tmp.path, 'b'));
    a = await makeSelfSignedCert(join(tmp.path, 'a'), 'a');
    b = await makeSelfSignedCert(join(tmp.path, 'b'), 'b');
  });
  after(async () => tmp?.close());

  it('applies a new matching pair once, keeps the old one when the pair does not match', async () => {
    const files = { certPath: join(tmp.path, 'cert.pem'), keyPath: join(tmp.path, 'key.pem') };
    await copyFile(a.certPath, files.certPath);
    await copyFile(a.keyPath, files.keyPath);
    const first = await readTlsMaterial(files);
    assert.ok(first.ok);
    const applied: TlsMaterial[] = [];
    const seen: Array<[ReloadOutcome['kind'], string]> = [];
    const reloader = new TlsReloader({ files, apply: (m) => applied.push(m), onOutcome: (o, t) => seen.push([o.kind, t]), watchIntervalMs: 0 }, first.material);

    assert.equal((await reloader.reload('signal')).kind, 'unchanged');
    await copyFile(b.certPath, files.certPath); // new certificate, old key: a half-done renewal
    const mismatch = await reloader.reload('signal');
    assert.equal(mismatch.kind, 'failed');
    assert.equal(applied.length, 0);
    await copyFile(b.keyPath, files.keyPath);
    const done = await reloader.reload('file-change');
    assert.equal(done.kind, 'reloaded');
    assert.equal(done.kind === 'reloaded' && done.info.fingerprint256, new X509Certificate(b.certPem).fingerprint256);
    assert.equal(applied.length, 1);
    await writeFile(files.certPath, 'not a certificate');
    assert.equal((await reloader.reload('signal')).kind, 'failed');
    assert.deepEqual(seen, [['unchanged', 'signal'], ['failed', 'signal'], ['reloaded', 'file-change'], ['failed', 'signal']]);
  });
});
