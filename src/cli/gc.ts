/**
 * `berth gc`: removes temp files no fill is writing any more (older than --tmp-age), media-type
 * records whose content is gone, and enforces the size cap now (least recently used first,
 * pins kept). Usable while the daemon runs: it takes no lock and rewrites no state file. A
 * blob a daemon client is reading stays readable (an open file survives its unlink), and a
 * request that finds it gone fills it again.
 * Exit 0: done; 2: bad usage.
 */
import type { Command } from 'commander';
import { parseDuration } from '../config/index.js';
import { removeOrphanMeta, sweepOldTemp } from '../store/housekeeping.js';
import { SizeCap } from '../store/cap/size-cap.js';
import { cliConfig, existingDataDir, type DataFlags, withDataDirOptions } from './cli-config.js';
import { openOfflineCache } from './offline-cache.js';
import { formatBytes } from '../util/format-bytes.js';

interface GcFlags extends DataFlags {
  tmpAge?: string;
  json?: boolean;
}

async function gc(flags: GcFlags): Promise<number> {
  const config = cliConfig('gc', flags);
  if (!config || !(await existingDataDir('gc', config))) return 2;
  let minAge: number;
  try {
    minAge = parseDuration(flags.tmpAge ?? '1h');
  } catch (err) {
    process.stderr.write(`berth gc: --tmp-age: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const cache = await openOfflineCache(config);
  if (typeof cache === 'string') {
    process.stderr.write(`berth gc: ${cache}\n`);
    return 2;
  }
  const temp = await sweepOldTemp(cache.store.layout, minAge, Date.now());
  const orphans = await removeOrphanMeta(cache.store.layout);
  const cap = new SizeCap(cache.store.layout.state, config.storage, {
    filling: () => false,
    protectedDigests: () => cache.pins.protectedDigests(),
    remove: (d) => cache.manifests.remove(d),
  }, { readOnly: true });
  const before = await cap.load(cache.store.list());
  const result = await cap.enforce();
  await cap.close();
  const summary = {
    tempFiles: temp.files,
    tempBytes: temp.bytes,
    orphanMeta: orphans,
    maxSize: config.storage.maxSize,
    bytesBefore: before.bytes,
    evicted: result.evicted,
    freedBytes: result.freedBytes,
    bytesAfter: result.bytesAfter,
    reachedTarget: result.reachedTarget,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  process.stdout.write(`removed ${temp.files} temp file(s) (${formatBytes(temp.bytes)}) and ${orphans} orphan metadata record(s)\n`);
  if (config.storage.maxSize === 0) process.stdout.write(`no size cap (storage.maxSize: 0); cache holds ${formatBytes(before.bytes)}\n`);
  else {
    process.stdout.write(
      `evicted ${result.evicted} blob(s) (${formatBytes(result.freedBytes)}); cache holds ${formatBytes(result.bytesAfter)} of ${formatBytes(config.storage.maxSize)}` +
        `${result.reachedTarget ? '' : ' (the rest is pinned)'}\n`,
    );
  }
  return 0;
}

export function registerGc(program: Command): void {
  withDataDirOptions(program.command('gc').description('remove stale temp files and orphan metadata, and enforce the size cap now (safe while serving)'))
    .option('--tmp-age <duration>', 'only temp files not written to for this long (default 1h)')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: GcFlags) => {
      process.exitCode = await gc(flags);
    });
}
