/**
 * `berth prefetch IMAGE… | --file LIST [--platform …] [--url URL]`: fills a running berth's
 * cache by making the requests a client pull makes. Going through the daemon (not writing the
 * data dir from a second process) keeps one owner for fills, eviction and the LRU record, and
 * shares fills with clients pulling the same images at the same time.
 * Exit 0: everything cached; 1: some images or blobs failed; 2: bad usage.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatPlatform, parsePlatforms, type Platform } from '../oci/platform.js';
import { imageTargets, planPrefetch, runPrefetch } from '../proxy/prefetch.js';
import { cliConfig, daemonUrl, type DataFlags } from './cli-config.js';
import { HttpSource } from './http-source.js';
import { progressView } from './progress.js';
import { formatBytes } from '../util/format-bytes.js';

interface PrefetchFlags extends DataFlags {
  file?: string;
  platform?: string;
  url?: string;
  creds?: string;
  concurrency?: string;
  withReferrers?: boolean;
}

/** One reference per line; blank lines and `#` comments are skipped. */
export function parseImageList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l.length > 0);
}

async function prefetch(images: string[], flags: PrefetchFlags): Promise<number> {
  const all = [...images];
  if (flags.file !== undefined) {
    const text = await readFile(flags.file, 'utf8').catch(() => undefined);
    if (text === undefined) {
      process.stderr.write(`berth prefetch: cannot read ${flags.file}\n`);
      return 2;
    }
    all.push(...parseImageList(text));
  }
  if (all.length === 0) {
    process.stderr.write('berth prefetch: name at least one image, or --file\n');
    return 2;
  }
  const platforms: Platform[] | undefined = flags.platform !== undefined ? parsePlatforms(flags.platform) : [];
  if (!platforms) {
    process.stderr.write(`berth prefetch: --platform expects os/arch[/variant],… got "${flags.platform ?? ''}"\n`);
    return 2;
  }
  let url = flags.url;
  if (url === undefined) {
    const config = cliConfig('prefetch', flags);
    if (!config) return 2;
    url = daemonUrl(config);
  }
  let bad = 0;
  const targets = imageTargets(all, (image, error) => {
    bad++;
    process.stderr.write(`berth prefetch: ${image}: ${error}\n`);
  });
  if (bad > 0) return 2;
  const source = new HttpSource(url, flags.creds);
  try {
    const shown = platforms.length > 0 ? platforms.map(formatPlatform).join(',') : 'all platforms';
    process.stdout.write(`resolving ${targets.length} image(s) via ${url} (${shown})\n`);
    const plan = await planPrefetch(source, targets, platforms, undefined, { withReferrers: flags.withReferrers === true });
    const view = progressView(process.stdout);
    view.start(plan.bytes, plan.blobs.length);
    const result = await runPrefetch(source, plan, { concurrency: Math.max(1, Number(flags.concurrency ?? 4) || 4), progress: view });
    view.stop();
    for (const p of result.problems) process.stderr.write(`berth prefetch: ${p.label}: ${p.what}: ${p.reason}\n`);
    process.stdout.write(
      `${plan.images} image(s), ${plan.manifests} manifest(s), ${result.blobs}/${plan.blobs.length} blobs ` +
        `(${result.alreadyCached} already cached), ${formatBytes(result.bytes)} transferred, ${result.problems.length} problem(s)\n`,
    );
    return result.problems.length > 0 ? 1 : 0;
  } finally {
    await source.close();
  }
}

export function registerPrefetch(program: Command): void {
  program
    .command('prefetch')
    .description('fill a running berth\'s cache with images (all platforms of an index, or only --platform)')
    .argument('[images...]', 'image references, e.g. docker.io/library/alpine:3.19 or ghcr.io/org/app@sha256:…')
    .option('-f, --file <list>', 'file with one image reference per line (# comments)')
    .option('-p, --platform <list>', 'only these platforms of an index, e.g. linux/amd64,linux/arm64')
    .option('-u, --url <url>', 'berth to fill (default: the listen address of the config)')
    .option('-c, --config <file>', 'YAML config file, for the default --url (env BERTH_CONFIG)')
    .option('--creds <user:password>', 'credentials when berth has client auth on')
    .option('--concurrency <n>', 'blobs fetched at once (default 4)')
    .option('--with-referrers', 'also fetch the images\' signatures, SBOMs and other OCI 1.1 referrers')
    .action(async (images: string[], flags: PrefetchFlags) => {
      process.exitCode = await prefetch(images, flags);
    });
}
