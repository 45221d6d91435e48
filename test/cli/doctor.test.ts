/** `berth doctor` pieces that need no daemon: image references and failure wording. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeFailure } from '../../src/cli/doctor-http.js';
import { parseImageRef } from '../../src/cli/doctor.js';

describe('berth doctor', () => {
  it('parses image references', () => {
    assert.deepEqual(parseImageRef('alpine'), { name: 'alpine', reference: 'latest' });
    assert.deepEqual(parseImageRef('library/alpine:3.19'), { name: 'library/alpine', reference: '3.19' });
    assert.deepEqual(parseImageRef('registry.local:5000/team/app'), { name: 'registry.local:5000/team/app', reference: 'latest' });
    assert.deepEqual(parseImageRef('ghcr.io/org/app:v1'), { name: 'ghcr.io/org/app', reference: 'v1' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseImageRef(`org/app@${digest}`), { name: 'org/app', reference: digest });
    assert.equal(parseImageRef(''), undefined);
    assert.equal(parseImageRef(':tag'), undefined);
  });

  it('words connection failures for people', () => {
    assert.match(describeFailure('ECONNREFUSED', 'connect ECONNREFUSED'), /connection refused/);
    assert.match(describeFailure('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), /--ca-cert/);
    assert.match(describeFailure('UND_ERR_SOCKET', 'other side closed'), /plain HTTP to a TLS port/);
  });
});
