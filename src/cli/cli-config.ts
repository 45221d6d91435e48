/** Config loading for the maintenance commands: the same layers as `serve`, errors on stderr. */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  CONFIG_FILE,
  OPTION_NAMES,
  OPTIONS,
  describeOption,
  loadConfig,
  type Config,
  type Flags,
  type LoadOptions,
  type OptionName,
} from '../config/index.js';
import { canonicalRepository } from '../oci/names.js';

/** `--config` and the override flags as commander parses them. */
export interface DataFlags extends Flags {
  config?: string;
}

/** Adds `--config` and the named override flags (every one by default), with their help, from the option table. */
export function withConfigOptions(cmd: Command, names: readonly OptionName[] = OPTION_NAMES): Command {
  cmd.option(CONFIG_FILE.flag, describeOption(CONFIG_FILE));
  for (const name of names) cmd.option(OPTIONS[name].flag, describeOption(OPTIONS[name]));
  return cmd;
}

/** The `--config` / `--data-dir` pair every command that opens a data dir takes (DataFlags). */
export function withDataDirOptions(cmd: Command): Command {
  return withConfigOptions(cmd, ['dataDir']);
}

/** What loadConfig needs from the command line: the file and the override flags. */
export function loadOptions(flags: DataFlags): LoadOptions {
  return { ...(flags.config !== undefined ? { file: flags.config } : {}), env: process.env, flags };
}

/** The effective config, or undefined after printing why not. */
export function cliConfig(command: string, flags: DataFlags): Config | undefined {
  const loaded = loadConfig(loadOptions(flags));
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
  return { upstream, repository: canonicalRepository(upstream, name) };
}

