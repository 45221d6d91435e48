import { blobStream, type BlobContent } from './blobgen.js';
import type { ManifestBytes } from './image-spec.js';
import type { RegistryClient } from './registry-client.js';

/** Blobs up to this size go in one monolithic PUT; larger ones are streamed in a PATCH. */
export const MONOLITHIC_MAX = 8 << 20;

function uploadUrl(client: RegistryClient, location: string | undefined): URL {
  if (!location) throw new Error('upload answer without Location');
  return new URL(location, client.baseUrl);
}

/** Pushes one blob unless the registry already has it. Returns true when uploaded. */
export async function pushBlob(client: RegistryClient, repo: string, blob: BlobContent): Promise<boolean> {
  const head = await client.send('HEAD', `/v2/${repo}/blobs/${blob.digest}`, { repo, actions: ['pull', 'push'] });
  if (head.status === 200) return false;
  const start = await client.send('POST', `/v2/${repo}/blobs/uploads/`, { repo, headers: { 'content-length': '0' } });
  if (start.status !== 202) throw new Error(`POST upload ${repo}: ${start.status} ${start.body.toString()}`);
  let url = uploadUrl(client, start.headers.location);
  let finalBody: Buffer = Buffer.alloc(0);
  if (blob.size <= MONOLITHIC_MAX) {
    finalBody = Buffer.concat([...blob.chunks()]);
  } else {
    const patch = await client.send('PATCH', url.href, {
      repo,
      headers: { 'content-type': 'application/octet-stream' },
      body: blobStream(blob),
    });
    if (patch.status !== 202) throw new Error(`PATCH ${repo} ${blob.digest}: ${patch.status} ${patch.body.toString()}`);
    url = uploadUrl(client, patch.headers.location);
  }
  url.searchParams.set('digest', blob.digest);
  const put = await client.send('PUT', url.href, {
    repo,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(finalBody.length) },
    body: finalBody,
  });
  if (put.status !== 201) throw new Error(`PUT blob ${repo} ${blob.digest}: ${put.status} ${put.body.toString()}`);
  const got = put.headers['docker-content-digest'];
  if (got !== undefined && got !== blob.digest) throw new Error(`registry computed ${got}, expected ${blob.digest}`);
  return true;
}

/** PUTs manifest bytes (exactly) under a tag or digest reference. */
export async function pushManifest(client: RegistryClient, repo: string, ref: string, m: ManifestBytes): Promise<void> {
  const res = await client.send('PUT', `/v2/${repo}/manifests/${ref}`, {
    repo,
    headers: { 'content-type': m.mediaType },
    body: m.bytes,
  });
  if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${ref}: ${res.status} ${res.body.toString()}`);
  const got = res.headers['docker-content-digest'];
  if (got !== m.digest) throw new Error(`manifest digest ${got} != ${m.digest}`);
}
