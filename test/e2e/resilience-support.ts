/** Helpers shared by the resilience tests. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { makeImageSpec, pushImage, type ImageFixture } from '../support/images.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { ALL_ACCEPT, call, type Reply } from './harness.js';

/** Polls `check` until it returns true; fails after `timeoutMs`. Waits on state, not on time. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A small single-platform image with its own blobs, so faults on it touch nothing else. */
export function pushSmall(registryUrl: string, repo: string, layerSizes: number[] = [2_000, 30_000]): Promise<ImageFixture> {
  return pushImage(registryUrl, repo, '1.0', makeImageSpec({ seed: `res-${repo}`, layerSizes, mediaTypeFamily: 'oci' }));
}

/** Deletes a manifest (and so every tag naming it) in the upstream registry itself. */
export async function deleteManifest(registryUrl: string, repo: string, digest: string): Promise<void> {
  const res = await request(`${registryUrl}/v2/${repo}/manifests/${digest}`, { method: 'DELETE' });
  await res.body.dump();
  assert.equal(res.statusCode, 202, `DELETE ${repo}@${digest}`);
}

/** GET (or HEAD) of a manifest through berth, accepting every manifest type. */
export function getManifest(mirrorUrl: string, name: string, ref: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Reply> {
  return call(`${mirrorUrl}/v2/${name}/manifests/${ref}`, { method, headers: { accept: ALL_ACCEPT } });
}

/** `skopeo copy` through berth (no client retries); returns the pulled manifest's digest. */
export async function pull(mirrorUrl: string, ref: string, outDir: string): Promise<string> {
  const r = await skopeoCopy(`docker://${mirrorUrl.replace(/^http:\/\//, '')}/${ref}`, `dir:${outDir}`);
  assert.equal(r.code, 0, `skopeo copy ${ref}: ${r.stderr}`);
  return digestOfDir(outDir);
}

/** The committed file of a digest in a data dir. */
export function blobFile(dataDir: string, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return join(dataDir, 'blobs', alg, hex.slice(0, 2), hex);
}
