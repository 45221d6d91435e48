#!/usr/bin/env node
/** The berth CLI: serve | config check. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { pino } from 'pino';
import { startBerth } from './app.js';
import { registerDoctor } from './cli/doctor.js';
import { registerExport } from './cli/export.js';
import { registerGc } from './cli/gc.js';
import { registerImport } from './cli/import.js';
import { registerPrefetch } from './cli/prefetch.js';
import { registerStats } from './cli/stats.js';
import { registerVerify } from './cli/verify.js';
import { loadConfig, renderEffective, type LoadOptions } from './config/index.js';
import { createLogger } from './observability/logger.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

interface ServeFlags {
  config?: string;
  listen?: string;
  dataDir?: string;
  logLevel?: string;
  offline?: boolean;
}

function load(flags: ServeFlags): LoadOptions {
  return {
    ...(flags.config !== undefined ? { file: flags.config } : {}),
    env: process.env,
    flags: {
      ...(flags.listen !== undefined ? { listen: flags.listen } : {}),
      ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
      ...(flags.logLevel !== undefined ? { logLevel: flags.logLevel } : {}),
      ...(flags.offline !== undefined ? { offline: flags.offline } : {}),
    },
  };
}

function configOrExit(flags: ServeFlags) {
  const result = loadConfig(load(flags));
  if (!result.ok) {
    process.stderr.write(`berth: invalid configuration\n${result.errors.map((e) => `  ${e}`).join('\n')}\n`);
    process.exit(2);
  }
  return result.config;
}

async function serve(flags: ServeFlags): Promise<void> {
  const config = configOrExit(flags);
  const logger = createLogger(config.log.level, pino.destination({ dest: 1, sync: false }));
  let berth: Awaited<ReturnType<typeof startBerth>>;
  try {
    berth = await startBerth(config, logger);
  } catch (err) {
    logger.flush();
    process.stderr.write(`berth: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    berth.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading certificate and htpasswd');
    void berth.reload();
  });
}

const program = new Command();
program.name('berth').description('A pull-through caching mirror for container registries').version(version());

const withServeFlags = (cmd: Command): Command =>
  cmd
    .option('-c, --config <file>', 'YAML config file (env BERTH_CONFIG)')
    .option('-l, --listen <host:port>', 'listen address (env BERTH_LISTEN)')
    .option('-d, --data-dir <dir>', 'cache directory (env BERTH_DATA_DIR)')
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent (env BERTH_LOG_LEVEL)')
    .option('--offline', 'never dial an upstream; serve from the cache only (env BERTH_OFFLINE)');

withServeFlags(program.command('serve').description('run the mirror daemon')).action((flags: ServeFlags) => serve(flags));

const config = program.command('config').description('configuration tools');
config
  .command('check')
  .argument('[file]', 'config file to check')
  .description('validate a config and print the effective one, secrets masked')
  .action((file: string | undefined) => {
    const c = configOrExit(file !== undefined ? { config: file } : {});
    process.stdout.write(renderEffective(c));
  });

registerVerify(program);
registerDoctor(program);
registerPrefetch(program);
registerExport(program);
registerImport(program);
registerGc(program);
registerStats(program);

await program.parseAsync(process.argv);
