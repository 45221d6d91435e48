/** Issue: signatures, SBOMs and artifacts pass through intact (OCI 1.1 referrers). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { bytesBlob, type BlobContent } from '../support/blobgen.js';
import { fallbackTagOf, makeArtifact, makeIndex, pushArtifact, pushManifestBytes, referrerDescriptor, type ArtifactSpec } from '../support/artifacts.js';
import { makeImageSpec, makeIndexSpec, MediaTypes, pushImage, type ImageSpec } from '../support/images.js';
import type { ManifestBytes } from '../support/image-spec.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { startFaultProxy, type FaultProxy } from '../support/proxy.js';
import { RegistryClient } from '../support/registry-client.js';
import { startRegistry, type Registry } from '../support/registry.js';
import { digestOfDir, skopeoCopy } from '../support/skopeo.js';
import { makeTempDir, type TempDir } from '../support/tempdir.js';
import { HttpSource } from '../../src/cli/http-source.js';
import { planBundle } from '../../src/cli/bundle-plan.js';
import { loadConfigOrThrow } from '../../src/config/index.js';
import { imageTargets, planPrefetch, runPrefetch } from '../../src/proxy/prefetch.js';
import { FsBlobStore } from '../../src/store/fs-blob-store.js';
import { ManifestStore } from '../../src/store/manifest-store.js';
import { FileTagIndex } from '../../src/store/tag-index.js';
import { ALL_ACCEPT, call, metricValue, startMirror, type Mirror, type Reply } from './harness.js';

const SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const SBOM = 'application/spdx+json';
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const TTL_MS = 2_000;

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (v: unknown, type: string): BlobContent => bytesBlob(Buffer.from(JSON.stringify(v)), type);
const host = (url: string): string => url.replace(/^http:\/\//, '');
const listed = (r: Reply): Array<{ digest: string; artifactType?: string }> => (JSON.parse(r.body.toString('utf8')) as { manifests: Array<{ digest: string; artifactType?: string }> }).manifests;
const digests = (r: Reply): string[] => listed(r).map((d) => d.digest).sort();
const onDisk = (m: Mirror, d: string): Promise<boolean> => stat(join(m.dataDir, 'blobs', 'sha256', d.slice(7, 9), d.slice(7))).then(() => true, () => false);
const asSubject = (m: { manifest: Buffer; digest: string; mediaType: string; size: number }): ManifestBytes => ({ bytes: m.manifest, digest: m.digest, mediaType: m.mediaType, size: m.size });

describe('referrers and artifacts pass through intact', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  let mirror: Mirror;
  let tmp: TempDir;
  let upstreams: string;
  let signed: ManifestBytes;
  let sig: ArtifactSpec;
  let sbom: ArtifactSpec;
  let fallback: ManifestBytes;
  let apiSubject: ManifestBytes;
  let apiSig: ArtifactSpec;
  let apiSbom: ArtifactSpec;
  let apiBody: Buffer;
  const paged = `sha256:${'ab'.repeat(32)}`;
  let chart: ArtifactSpec;
  let multi: { index: ManifestBytes; amd64: ImageSpec; arm64: ImageSpec; attestation: ArtifactSpec };
  let prefetched: { image: string; referrers: ArtifactSpec[] };

  const referrers = (repo: string, subject: string, query = ''): Promise<Reply> => call(`${mirror.url}/v2/${repo}/referrers/${subject}${query}`);

  async function pullsIntact(repo: string, a: ArtifactSpec, accept: string = MediaTypes.ociManifest): Promise<void> {
    const m = await call(`${mirror.url}/v2/${repo}/manifests/${a.manifest.digest}`, { headers: { accept } });
    assert.equal(m.status, 200, `${repo}@${a.manifest.digest}`);
    assert.equal(sha256(m.body), a.manifest.digest);
    assert.equal(m.headers['docker-content-digest'], a.manifest.digest);
    assert.equal(m.headers['content-type'], MediaTypes.ociManifest);
    for (const b of a.blobs) {
      const got = await call(`${mirror.url}/v2/${repo}/blobs/${b.digest}`);
      assert.equal(got.status, 200);
      assert.equal(sha256(got.body), b.digest, `blob ${b.mediaType}`);
    }
  }

  before(async () => {
    tmp = await makeTempDir('referrers');
    registry = await startRegistry();
    // An image with a signature and an SBOM; distribution 2.8 has no referrers API, so the
    // pushing client also wrote the tag-schema index, as cosign and oras do.
    const image = await pushImage(registry.url, 'test/signed', '1.0', makeImageSpec({ seed: 'ref-image', layerSizes: [4096], mediaTypeFamily: 'oci' }));
    signed = asSubject(image);
    sig = makeArtifact({ artifactType: SIG, layers: [json({ critical: { image: { 'docker-manifest-digest': image.digest } } }, 'application/vnd.dev.cosign.simplesigning.v1+json')], subject: signed, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ' } });
    sbom = makeArtifact({ artifactType: SBOM, layers: [json({ spdxVersion: 'SPDX-2.3', name: 'ref-image' }, SBOM)], subject: signed });
    await pushArtifact(registry.url, 'test/signed', sig);
    await pushArtifact(registry.url, 'test/signed', sbom);
    fallback = makeIndex([referrerDescriptor(sig), referrerDescriptor(sbom)]);
    await pushManifestBytes(registry.url, 'test/signed', fallbackTagOf(image.digest), fallback);

    // A repository whose upstream does have the API (answered by the fault proxy below); its
    // fallback tag is out of date on purpose, to show the API answer wins.
    const img2 = await pushImage(registry.url, 'test/api', '1.0', makeImageSpec({ seed: 'ref-api', layerSizes: [4096], mediaTypeFamily: 'oci' }));
    apiSubject = asSubject(img2);
    apiSig = makeArtifact({ artifactType: SIG, layers: [json({ sig: 'api' }, 'application/vnd.dev.cosign.simplesigning.v1+json')], subject: apiSubject });
    apiSbom = makeArtifact({ artifactType: SBOM, layers: [json({ spdxVersion: 'SPDX-2.3', name: 'ref-api' }, SBOM)], subject: apiSubject });
    await pushArtifact(registry.url, 'test/api', apiSig);
    await pushArtifact(registry.url, 'test/api', apiSbom);
    await pushManifestBytes(registry.url, 'test/api', fallbackTagOf(img2.digest), makeIndex([referrerDescriptor(apiSig)]));
    apiBody = makeIndex([referrerDescriptor(apiSig), referrerDescriptor(apiSbom)]).bytes;

    // A Helm chart as `helm push` stores it.
    chart = makeArtifact({
      config: json({ apiVersion: 'v2', name: 'demo', version: '0.1.0' }, HELM_CONFIG),
      layers: [bytesBlob(gzipSync(Buffer.from('demo/Chart.yaml: apiVersion: v2\nname: demo\nversion: 0.1.0\n')), HELM_LAYER)],
    });
    await pushArtifact(registry.url, 'charts/demo', chart, '0.1.0');

    // A two-platform index with a BuildKit-style attestation manifest (platform unknown/unknown).
    const spec = makeIndexSpec({
      seed: 'ref-multi',
      mediaTypeFamily: 'oci',
      platforms: [
        { platform: { os: 'linux', architecture: 'amd64' }, layerSizes: [8192, 16384] },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layerSizes: [9216, 17408] },
      ],
    });
    const [amd64, arm64] = spec.children as [ImageSpec, ImageSpec];
    const client = new RegistryClient(registry.url);
    for (const c of [amd64, arm64]) {
      for (const b of [c.config, ...c.layers]) await pushBlob(client, 'test/multi', b);
      await pushManifest(client, 'test/multi', c.manifest.digest, c.manifest);
    }
    const attestation = makeArtifact({
      config: json({ architecture: 'unknown', os: 'unknown', rootfs: { type: 'layers', diff_ids: [] } }, MediaTypes.ociConfig),
      layers: [json({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document' }, 'application/vnd.in-toto+json')],
    });
    await pushArtifact(registry.url, 'test/multi', attestation);
    const platformOf = (c: ImageSpec): { mediaType: string; digest: string; size: number; platform: ImageSpec['platform'] } => ({ mediaType: c.manifest.mediaType, digest: c.manifest.digest, size: c.manifest.size, platform: c.platform });
    const index = makeIndex([
      platformOf(amd64),
      platformOf(arm64),
      {
        mediaType: attestation.manifest.mediaType,
        digest: attestation.manifest.digest,
        size: attestation.manifest.size,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.digest': amd64.manifest.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
      },
    ]);
    await pushManifestBytes(registry.url, 'test/multi', '1.0', index);
    multi = { index, amd64, arm64, attestation };

    // For --with-referrers: an image with a signature and an SBOM, and a signature of the SBOM.
    const img3 = await pushImage(registry.url, 'test/prefetch', '1.0', makeImageSpec({ seed: 'ref-prefetch', layerSizes: [4096], mediaTypeFamily: 'oci' }));
    const pSig = makeArtifact({ artifactType: SIG, layers: [json({ sig: 'prefetch' }, 'application/vnd.dev.cosign.simplesigning.v1+json')], subject: asSubject(img3) });
    const pSbom = makeArtifact({ artifactType: SBOM, layers: [json({ spdxVersion: 'SPDX-2.3', name: 'ref-prefetch' }, SBOM)], subject: asSubject(img3) });
    const pSbomSig = makeArtifact({ artifactType: SIG, layers: [json({ sig: 'prefetch-sbom' }, 'application/vnd.dev.cosign.simplesigning.v1+json')], subject: pSbom.manifest });
    for (const a of [pSig, pSbom, pSbomSig]) await pushArtifact(registry.url, 'test/prefetch', a);
    await pushManifestBytes(registry.url, 'test/prefetch', fallbackTagOf(img3.digest), makeIndex([referrerDescriptor(pSig), referrerDescriptor(pSbom)]));
    await pushManifestBytes(registry.url, 'test/prefetch', fallbackTagOf(pSbom.manifest.digest), makeIndex([referrerDescriptor(pSbomSig)]));
    prefetched = { image: img3.digest, referrers: [pSig, pSbom, pSbomSig] };

    proxy = await startFaultProxy(registry.url);
    const index200 = (body: Buffer, headers: Record<string, string> = {}): { status: number; headers: Record<string, string>; body: Buffer } => ({ status: 200, headers: { 'content-type': MediaTypes.ociIndex, ...headers }, body });
    proxy.fault({ method: 'GET', path: new RegExp(`^/v2/test/api/referrers/${img2.digest}$`), ...index200(apiBody) });
    // A paginated answer: two pages joined by a Link header.
    const page2 = `/v2/test/api/referrers/${paged}?n=1&last=x`;
    proxy.fault({ method: 'GET', path: new RegExp(`^/v2/test/api/referrers/${paged}$`), ...index200(makeIndex([referrerDescriptor(apiSig)]).bytes, { link: `<${page2}>; rel="next"` }) });
    proxy.fault({ method: 'GET', path: new RegExp(`^/v2/test/api/referrers/${paged}\\?n=1&last=x$`), ...index200(makeIndex([referrerDescriptor(apiSbom)]).bytes) });

    upstreams = `  docker.io:\n    url: ${proxy.url}\n    tagTtl: ${TTL_MS}ms\n    revalidate: first\n    retries: 0\n`;
    mirror = await startMirror({ upstreams, dataDir: join(tmp.path, 'data') });
  });

  after(async () => {
    await mirror?.close();
    await proxy?.close();
    await registry?.close();
    await tmp?.close();
  });

  test('upstream without the referrers API: the fallback tag lists both artifacts, filters work, artifacts pull intact', async () => {
    const first = await referrers('test/signed', signed.digest);
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-type'], MediaTypes.ociIndex);
    assert.equal(first.headers['x-cache'], 'MISS');
    assert.equal(first.headers['oci-filters-applied'], undefined);
    assert.deepEqual(digests(first), [sig.manifest.digest, sbom.manifest.digest].sort());
    assert.deepEqual(listed(first).map((d) => d.artifactType).sort(), [SBOM, SIG]);
    assert.equal(proxy.count('GET', /^\/v2\/test\/signed\/referrers\//), 1, 'the API was asked once (404)');

    // Within the TTL the answer, filtered or not, comes from the cache alone.
    const seen = proxy.requests.length;
    const again = await referrers('test/signed', signed.digest);
    assert.equal(again.headers['x-cache'], 'HIT');
    assert.deepEqual(again.body, first.body);
    const onlySbom = await referrers('test/signed', signed.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
    assert.equal(onlySbom.status, 200);
    assert.equal(onlySbom.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(digests(onlySbom), [sbom.manifest.digest]);
    const none = await referrers('test/signed', signed.digest, '?artifactType=application%2Fx-nothing');
    assert.equal(none.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(listed(none), []);
    assert.equal(proxy.requests.length, seen, 'no upstream request within the TTL');

    // Each listed artifact pulls by digest with its original bytes; the fallback tag is a plain tag too.
    await pullsIntact('test/signed', sig);
    await pullsIntact('test/signed', sbom);
    const tag = await call(`${mirror.url}/v2/test/signed/manifests/${fallbackTagOf(signed.digest)}`, { headers: { accept: ALL_ACCEPT } });
    assert.equal(tag.status, 200);
    assert.deepEqual(tag.body, fallback.bytes);

    // Nothing anywhere: an empty OCI index, not an error.
    const empty = await referrers('test/signed', sig.manifest.digest);
    assert.equal(empty.status, 200);
    assert.deepEqual(JSON.parse(empty.body.toString()), { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] });
  });

  test('upstream with the referrers API: its answer wins, is cached for the TTL, filtered locally, pages joined', async () => {
    const apiPath = new RegExp(`^/v2/test/api/referrers/${apiSubject.digest}`);
    const first = await referrers('test/api', apiSubject.digest);
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-cache'], 'MISS');
    assert.deepEqual(first.body, apiBody, 'the upstream answer byte for byte, not the stale fallback tag');
    assert.equal(proxy.count('GET', apiPath), 1);
    assert.equal(proxy.count(undefined, new RegExp(`/test/api/manifests/${fallbackTagOf(apiSubject.digest)}`)), 0, 'fallback tag not consulted');

    const onlySig = await referrers('test/api', apiSubject.digest, `?artifactType=${encodeURIComponent(SIG)}`);
    assert.equal(onlySig.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(digests(onlySig), [apiSig.manifest.digest]);
    const again = await referrers('test/api', apiSubject.digest);
    assert.equal(again.headers['x-cache'], 'HIT');
    assert.equal(proxy.count('GET', apiPath), 1, 'second request within the TTL made no upstream request');

    await pullsIntact('test/api', apiSig);
    await pullsIntact('test/api', apiSbom);

    const joined = await referrers('test/api', paged);
    assert.deepEqual(digests(joined), [apiSig.manifest.digest, apiSbom.manifest.digest].sort());
  });

  test('a Helm chart pulls with its digest intact, whatever the client accepts', async () => {
    for (const accept of [MediaTypes.ociManifest, '*/*', HELM_CONFIG, `${MediaTypes.ociManifest}, ${MediaTypes.ociIndex}`]) {
      const r = await call(`${mirror.url}/v2/charts/demo/manifests/0.1.0`, { headers: { accept } });
      assert.equal(r.status, 200, `Accept: ${accept}`);
      assert.deepEqual(r.body, chart.manifest.bytes);
      assert.equal(r.headers['docker-content-digest'], chart.manifest.digest);
    }
    await pullsIntact('charts/demo', chart);
    const out = join(tmp.path, 'chart');
    const copied = await skopeoCopy(`docker://${host(mirror.url)}/charts/demo:0.1.0`, `dir:${out}`);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(await digestOfDir(out), chart.manifest.digest);
  });

  test('one platform of an index: only its blobs are fetched; the index and its attestation are served by digest', async () => {
    const out = join(tmp.path, 'amd64');
    const copied = await skopeoCopy(`docker://${host(mirror.url)}/test/multi:1.0`, `dir:${out}`, { overrideArch: 'amd64' });
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(await digestOfDir(out), multi.amd64.manifest.digest);
    const blobGets = (b: BlobContent): number => proxy.count('GET', new RegExp(`^/v2/test/multi/blobs/${b.digest}`));
    for (const b of [multi.amd64.config, ...multi.amd64.layers]) assert.equal(blobGets(b), 1, `amd64 ${b.mediaType}`);
    for (const b of [multi.arm64.config, ...multi.arm64.layers, ...multi.attestation.blobs]) assert.equal(blobGets(b), 0, `never fetched: ${b.digest}`);
    assert.equal(await onDisk(mirror, multi.arm64.layers[0]!.digest), false);
    assert.equal(await onDisk(mirror, multi.amd64.layers[0]!.digest), true);

    const index = await call(`${mirror.url}/v2/test/multi/manifests/${multi.index.digest}`, { headers: { accept: ALL_ACCEPT } });
    assert.equal(index.status, 200);
    assert.deepEqual(index.body, multi.index.bytes);
    const att = await call(`${mirror.url}/v2/test/multi/manifests/${multi.attestation.manifest.digest}`, { headers: { accept: ALL_ACCEPT } });
    assert.equal(att.status, 200);
    assert.equal(sha256(att.body), multi.attestation.manifest.digest);
  });

  test('prefetch --with-referrers caches signatures, SBOMs and their signatures; export --with-referrers bundles them', async () => {
    const source = new HttpSource(mirror.url);
    try {
      const targets = imageTargets(['test/prefetch:1.0'], (t, e) => assert.fail(`${t}: ${e}`));
      const plan = await planPrefetch(source, targets, [], undefined, { withReferrers: true });
      assert.deepEqual(plan.problems, []);
      const result = await runPrefetch(source, plan);
      assert.deepEqual(result.problems, []);
    } finally {
      await source.close();
    }
    for (const a of prefetched.referrers) {
      for (const b of a.blobs) assert.ok(await onDisk(mirror, b.digest), `${a.artifactType} ${b.mediaType} cached`);
      // The layers are each artifact's own (the empty config is shared and was cached before).
      for (const b of a.blobs.slice(1)) assert.equal(proxy.count('GET', new RegExp(`^/v2/test/prefetch/blobs/${b.digest}`)), 1);
    }

    // The export plan reads only the data dir: the lists berth cached while prefetching.
    const store = new FsBlobStore(mirror.dataDir, false);
    const tags = new FileTagIndex(store.layout.state);
    await tags.load({ readOnly: true });
    const config = loadConfigOrThrow({ file: mirror.configFile, env: {}, flags: {} });
    const bundle = await planBundle(config, tags, new ManifestStore(store, store.layout), store, ['test/prefetch:1.0'], { withReferrers: true });
    assert.deepEqual(bundle.errors, []);
    assert.deepEqual(bundle.images.map((i) => i.digest).sort(), [prefetched.image, ...prefetched.referrers.map((a) => a.manifest.digest)].sort());
    for (const a of prefetched.referrers) for (const b of a.blobs) assert.ok(bundle.content.has(b.digest), `${a.artifactType} blob in the bundle`);
    const plain = await planBundle(config, tags, new ManifestStore(store, store.layout), store, ['test/prefetch:1.0']);
    assert.deepEqual(plain.images.map((i) => i.digest), [prefetched.image]);
  });

  test('with the upstream down, cached referrers, the index and artifacts are still served, also after a restart', async () => {
    await delay(TTL_MS + 100);
    await proxy.stopListening();
    const check = async (m: Mirror): Promise<void> => {
      const viaTag = await call(`${m.url}/v2/test/signed/referrers/${signed.digest}`);
      assert.equal(viaTag.status, 200);
      assert.equal(viaTag.headers['x-cache'], 'STALE');
      assert.deepEqual(digests(viaTag), [sig.manifest.digest, sbom.manifest.digest].sort());
      const viaApi = await call(`${m.url}/v2/test/api/referrers/${apiSubject.digest}?artifactType=${encodeURIComponent(SBOM)}`);
      assert.equal(viaApi.status, 200);
      assert.equal(viaApi.headers['x-cache'], 'STALE');
      assert.equal(viaApi.headers['oci-filters-applied'], 'artifactType');
      assert.deepEqual(digests(viaApi), [apiSbom.manifest.digest]);
      for (const [repo, digest] of [['test/multi', multi.index.digest], ['test/multi', multi.attestation.manifest.digest], ['test/signed', sig.manifest.digest], ['charts/demo', chart.manifest.digest]] as const) {
        const r = await call(`${m.url}/v2/${repo}/manifests/${digest}`, { headers: { accept: ALL_ACCEPT } });
        assert.equal(r.status, 200, `${repo}@${digest}`);
        assert.equal(sha256(r.body), digest);
      }
    };
    await check(mirror);
    assert.ok((await metricValue(mirror.berth.metrics, 'berth_cache_requests_total', { kind: 'referrers', result: 'stale' })) >= 2);
    await mirror.stop();
    mirror = await startMirror({ upstreams, dataDir: join(tmp.path, 'data') });
    await check(mirror);
  });
});
