/** `berth verify`: re-hash the cache, quarantine what is wrong; exit 0 clean, 1 findings, 2 unusable. */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { withDataDirOptions } from './cli-config.js';
import { loadConfig } from '../config/index.js';
import { layoutOf } from '../store/paths.js';
import { verifyStore, type Finding } from '../store/verify.js';

interface VerifyFlags {
  config?: string;
  dataDir?: string;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function line(f: Finding): string {
  const where = f.quarantinedTo !== undefined ? `moved to ${f.quarantinedTo}` : 'could not be moved';
  return `${f.kind} ${f.path}: ${f.detail}; ${where}\n`;
}

async function verify(flags: VerifyFlags): Promise<number> {
  const loaded = loadConfig({
    ...(flags.config !== undefined ? { file: flags.config } : {}),
    env: process.env,
    flags: flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {},
  });
  if (!loaded.ok) {
    process.stderr.write(`berth: invalid configuration\n${loaded.errors.map((e) => `  ${e}`).join('\n')}\n`);
    return 2;
  }
  const root = loaded.config.storage.path;
  if (!(await stat(root).catch(() => undefined))?.isDirectory()) {
    process.stderr.write(`berth verify: data directory ${root} does not exist\n`);
    return 2;
  }
  const report = await verifyStore(layoutOf(root), (f) => process.stdout.write(line(f)));
  const corrupt = report.findings.filter((f) => f.kind === 'corrupt').length;
  const partial = report.findings.length - corrupt + report.tempFiles;
  process.stdout.write(
    `checked ${report.checked} blobs (${mib(report.bytes)}) in ${root}: ${corrupt} corrupt, ${partial} partial` +
      ` (${report.tempFiles} temp files of fills in progress or interrupted)\n`,
  );
  return corrupt + partial > 0 ? 1 : 0;
}

export function registerVerify(program: Command): void {
  withDataDirOptions(program.command('verify').description('re-hash every cached blob; move corrupt ones into <data>/quarantine/ (exit 1 if anything was found)'))
    .action(async (flags: VerifyFlags) => {
      process.exitCode = await verify(flags);
    });
}
