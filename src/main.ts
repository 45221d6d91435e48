#!/usr/bin/env node
/** The berth CLI: one subcommand per job; `serve` runs the daemon, the others are offline or client-side tools. */
import cluster from 'node:cluster';
import { Command } from 'commander';
import { pino } from 'pino';
import { startBerth } from './app.js';
import { withConfigOptions, loadOptions, type DataFlags } from './cli/cli-config.js';
import { registerDoctor } from './cli/doctor.js';
import { registerExport } from './cli/export.js';
import { registerGc } from './cli/gc.js';
import { registerImport } from './cli/import.js';
import { registerPrefetch } from './cli/prefetch.js';
import { registerStats } from './cli/stats.js';
import { registerVerify } from './cli/verify.js';
import { loadConfig, renderEffective } from './config/index.js';
import { createLogger } from './observability/logger.js';
import { berthVersion } from './version.js';
import { runPrimary, WORKER_INDEX_ENV, workerCount } from './workers/primary.js';
import type { Channel } from './workers/rpc.js';
import { WorkerLink } from './workers/worker-link.js';

/** A worker's IPC channel to the primary. */
function processChannel(): Channel {
  return {
    send: (m) => process.send?.(m),
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  };
}

function configOrExit(flags: DataFlags) {
  const result = loadConfig(loadOptions(flags));
  if (!result.ok) {
    process.stderr.write(`berth: invalid configuration\n${result.errors.map((e) => `  ${e}`).join('\n')}\n`);
    process.exit(2);
  }
  return result.config;
}

async function serve(flags: DataFlags): Promise<void> {
  const config = configOrExit(flags);
  const workers = workerCount(config);
  if (workers > 1 && config.storage.backend === 's3') {
    process.stderr.write('berth: workers > 1 needs the local disk store; with object storage, run more nodes (cluster)\n');
    process.exit(2);
  }
  const root = createLogger(config.log.level, pino.destination({ dest: 1, sync: false }));
  if (workers > 1 && cluster.isPrimary) return runPrimary(config, workers, root);
  const link = cluster.isWorker ? new WorkerLink(Number(process.env[WORKER_INDEX_ENV] ?? 0), processChannel()) : undefined;
  const logger = link ? root.child({ worker: link.index, pid: process.pid }) : root;
  let berth: Awaited<ReturnType<typeof startBerth>> | undefined;
  // Registered before starting: a SIGHUP during start-up must not kill the process, and what it
  // would reload is read by the start itself.
  process.on('SIGHUP', () => {
    if (!berth) return;
    logger.info({ signal: 'SIGHUP' }, 'reloading certificate and htpasswd');
    void berth.reload();
  });
  try {
    berth = await startBerth(config, logger, link ? { link } : {});
  } catch (err) {
    logger.flush();
    process.stderr.write(`berth: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const started = berth;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    started.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const program = new Command();
program.name('berth').description('A pull-through caching mirror for container registries').version(berthVersion());

withConfigOptions(program.command('serve').description('run the mirror daemon')).action((flags: DataFlags) => serve(flags));

const config = program.command('config').description('configuration tools');
withConfigOptions(
  config
    .command('check')
    .argument('[file]', 'config file to check (else --config, else BERTH_CONFIG)')
    .description('validate a config and print the effective one (file < env < flags), secrets masked'),
).action((file: string | undefined, flags: DataFlags) => {
  process.stdout.write(renderEffective(configOrExit(file !== undefined ? { ...flags, config: file } : flags)));
});

registerVerify(program);
registerDoctor(program);
registerPrefetch(program);
registerExport(program);
registerImport(program);
registerGc(program);
registerStats(program);

await program.parseAsync(process.argv);
