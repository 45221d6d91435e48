/** Config loading for the maintenance commands: the same layers as `serve`, errors on stderr. */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/index.js';

export interface DataFlags {
  config?: string;
  dataDir?: string;
}

/** The `--config` / `--data-dir` pair every command that opens a data dir takes (DataFlags). */
export function withDataDirOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config file naming the data dir (env BERTH_CONFIG)')
    .option('-d, --data-dir <dir>', 'cache directory (env BERTH_DATA_DIR)');
}

/** The effective config, or undefined after printing why not. */
export function cliConfig(command: string, flags: DataFlags): Config | undefined {
  const loaded = loadConfig({
    ...(flags.config !== undefined ? { file: flags.config } : {}),
    env: process.env,
    flags: flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {},
  });
  if (loaded.ok) return loaded.config;
  process.stderr.write(`berth ${command}: invalid configuration\n${loaded.errors.map((e) => `  ${e}`).join('\n')}\n`);
  return undefined;
}

/** The data dir must exist for commands that only read it. */
export async function existingDataDir(command: string, config: Config): Promise<boolean> {
  const s = await stat(config.storage.path).catch(() => undefined);
  if (s?.isDirectory()) return true;
  process.stderr.write(`berth ${command}: data directory ${config.storage.path} does not exist\n`);
  return false;
}

/** Where a local daemon listens, as a URL a client on this host can use. */
export function daemonUrl(config: Config): string {
  const { host, port } = config.listen;
  const local = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const shown = local.includes(':') ? `[${local}]` : local;
  return `${config.tls !== undefined ? 'https' : 'http'}://${shown}:${port}`;
}

/** The upstream a registry host names in this config (by name or alias). */
export function upstreamOf(config: Config, host: string): string | undefined {
  return config.upstreams.find((u) => u.name === host || u.aliases.includes(host))?.name;
}

/** Where an image reference lives in the cache: upstream name and repository, as the router resolves them. */
export function resolveImage(config: Config, host: string | undefined, name: string): { upstream: string; repository: string } | string {
  const upstream = host === undefined ? config.defaultUpstream : upstreamOf(config, host);
  if (upstream === undefined) return `no upstream is configured for ${host ?? ''}`;
  const repository = upstream === 'docker.io' && !name.includes('/') ? `library/${name}` : name;
  return { upstream, repository };
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
