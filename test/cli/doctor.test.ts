/** `berth doctor` pieces that need no daemon: image references and failure wording. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeFailure } from '../../src/cli/doctor-http.js';
import { manifestPath } from '../../src/cli/doctor.js';

describe('berth doctor', () => {
  it('turns image references into manifest paths', () => {
    assert.deepEqual(manifestPath('alpine'), { ok: true, path: 'alpine/manifests/latest' });
    assert.deepEqual(manifestPath('library/alpine:3.19'), { ok: true, path: 'library/alpine/manifests/3.19' });
    assert.deepEqual(manifestPath('registry.local:5000/team/app'), { ok: true, path: 'registry.local:5000/team/app/manifests/latest' });
    assert.deepEqual(manifestPath('ghcr.io/org/app:v1'), { ok: true, path: 'ghcr.io/org/app/manifests/v1' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(manifestPath(`org/app@${digest}`), { ok: true, path: `org/app/manifests/${digest}` });
    assert.equal(manifestPath('').ok, false);
    assert.equal(manifestPath(':tag').ok, false);
  });

  it('words connection failures for people', () => {
    assert.match(describeFailure({ kind: 'refused', message: 'connect ECONNREFUSED' }), /connection refused/);
    assert.match(describeFailure({ kind: 'tls', message: 'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate' }), /--ca-cert/);
    assert.match(describeFailure({ kind: 'reset', message: 'other side closed' }), /plain HTTP to a TLS port/);
  });
});
