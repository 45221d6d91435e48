/** `berth verify`: re-hash the cache, quarantine what is wrong; exit 0 clean, 1 findings, 2 unusable. */
import type { Command } from 'commander';
import { cliConfig, existingDataDir, type DataFlags, withDataDirOptions } from './cli-config.js';
import { layoutOf } from '../store/paths.js';
import { verifyStore, type Finding } from '../store/verify.js';
import { formatBytes } from '../util/format-bytes.js';

function line(f: Finding): string {
  const where = f.quarantinedTo !== undefined ? `moved to ${f.quarantinedTo}` : 'could not be moved';
  return `${f.kind} ${f.path}: ${f.detail}; ${where}\n`;
}

async function verify(flags: DataFlags): Promise<number> {
  const config = cliConfig('verify', flags);
  if (config === undefined || !(await existingDataDir('verify', config))) return 2;
  const root = config.storage.path;
  const report = await verifyStore(layoutOf(root), (f) => process.stdout.write(line(f)));
  const corrupt = report.findings.filter((f) => f.kind === 'corrupt').length;
  const partial = report.findings.length - corrupt + report.tempFiles;
  process.stdout.write(
    `checked ${report.checked} blobs (${formatBytes(report.bytes)}) in ${root}: ${corrupt} corrupt, ${partial} partial` +
      ` (${report.tempFiles} temp files of fills in progress or interrupted)\n`,
  );
  return corrupt + partial > 0 ? 1 : 0;
}

export function registerVerify(program: Command): void {
  withDataDirOptions(program.command('verify').description('re-hash every cached blob; move corrupt ones into <data>/quarantine/ (exit 1 if anything was found)'))
    .action(async (flags: DataFlags) => {
      process.exitCode = await verify(flags);
    });
}
