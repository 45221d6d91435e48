import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { withConfigOptions, type DataFlags } from '../../src/cli/cli-config.js';
import { CONFIG_FILE, OPTION_NAMES, OPTIONS, longFlag, type OptionName } from '../../src/config/options.js';
import { runBerth } from '../e2e/cli.js';
import { defaultYaml, mustLoad, repoRoot, tempDir, withYaml, writeFile } from './helpers.js';

/** For each option: a file value, an env value and flag arguments, and what each layer yields. */
const SAMPLES: Record<OptionName, { file: string; env: string; flag: string[]; fromEnv: unknown; fromFlag: unknown }> = {
  listen: { file: '10.0.0.1:6000', env: '[::1]:7000', flag: ['--listen', ':8000'], fromEnv: { host: '::1', port: 7000 }, fromFlag: { host: '0.0.0.0', port: 8000 } },
  dataDir: { file: '/from/file', env: '/from/env', flag: ['--data-dir', '/from/flag'], fromEnv: '/from/env', fromFlag: '/from/flag' },
  maxSize: { file: '10GiB', env: '1GiB', flag: ['--max-size', '2GiB'], fromEnv: 1024 ** 3, fromFlag: 2 * 1024 ** 3 },
  logLevel: { file: 'warn', env: 'DEBUG', flag: ['--log-level', 'error'], fromEnv: 'debug', fromFlag: 'error' },
  offline: { file: 'true', env: 'no', flag: ['--offline'], fromEnv: false, fromFlag: true },
  workers: { file: '4', env: 'auto', flag: ['--workers', '2'], fromEnv: 'auto', fromFlag: 2 },
};

function valueAt(value: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value);
}

/** YAML that sets one dotted key. */
function yamlAt(key: string, value: string): string {
  const parts = key.split('.');
  return parts.map((part, i) => `${'  '.repeat(i)}${part}:${i === parts.length - 1 ? ` ${value}` : ''}`).join('\n') + '\n';
}

/** The flags commander produces for args, through the same withConfigOptions the CLI uses. */
function parseFlags(args: string[]): DataFlags {
  const cmd = withConfigOptions(new Command().exitOverride());
  cmd.parse(args, { from: 'user' });
  return cmd.opts<DataFlags>();
}

describe('option table', () => {
  it('gives every option a key, a flag, a BERTH_ variable and help', () => {
    const defaults = mustLoad({});
    for (const name of OPTION_NAMES) {
      const o = OPTIONS[name];
      assert.notEqual(valueAt(defaults, o.key), undefined, `${name}: key ${o.key} is not in the config`);
      assert.match(longFlag(o), /^--[a-z-]+$/, name);
      assert.match(o.env, /^BERTH_[A-Z_]+$/, name);
      assert.ok(o.help.length > 3, `${name}: no help`);
    }
    assert.equal(new Set(OPTION_NAMES.map((n) => OPTIONS[n].env)).size, OPTION_NAMES.length, 'variables are distinct');
  });

  it('names each option after its flag, as commander names the parsed value', () => {
    for (const name of OPTION_NAMES) {
      const flags = parseFlags(SAMPLES[name].flag);
      assert.deepEqual(Object.keys(flags), [name]);
    }
  });

  it('lets a variable override the file and a flag override the variable, for every option', () => {
    for (const name of OPTION_NAMES) {
      const { key, env } = OPTIONS[name];
      const sample = SAMPLES[name];
      withYaml(yamlAt(key, sample.file), (file) => {
        const fromFile = valueAt(mustLoad({ file, cwd: '/' }), key);
        assert.notDeepEqual(fromFile, sample.fromEnv, `${name}: the file value must differ from the env value`);
        assert.deepEqual(valueAt(mustLoad({ file, cwd: '/', env: { [env]: sample.env } }), key), sample.fromEnv, `${name}: ${env} over the file`);
        const flags = parseFlags(sample.flag);
        assert.deepEqual(valueAt(mustLoad({ file, cwd: '/', env: { [env]: sample.env }, flags }), key), sample.fromFlag, `${name}: ${sample.flag[0]} over ${env}`);
      });
    }
  });

  it('is documented in config/default.yaml and the README', () => {
    const yaml = readFileSync(defaultYaml, 'utf8');
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const o of [...Object.values(OPTIONS), CONFIG_FILE]) {
      assert.ok(yaml.includes(o.env) && yaml.includes(longFlag(o)), `default.yaml lacks ${o.env} / ${longFlag(o)}`);
      assert.ok(readme.includes(`\`${o.env}\``) && readme.includes(longFlag(o)), `README lacks ${o.env} / ${longFlag(o)}`);
    }
  });
});

describe('berth --help', () => {
  for (const command of [['serve'], ['config', 'check']]) {
    it(`lists every option with its variable under ${command.join(' ')}`, async () => {
      const result = await runBerth([...command, '--help']);
      assert.equal(result.code, 0, result.stderr);
      const help = result.stdout.replace(/\s+/g, ' ');
      for (const o of [...Object.values(OPTIONS), CONFIG_FILE]) {
        assert.ok(help.includes(`${longFlag(o)} `), `no ${longFlag(o)} in:\n${result.stdout}`);
        assert.ok(help.includes(`env ${o.env}`), `no ${o.env} in:\n${result.stdout}`);
      }
    });
  }

  it('config check applies a flag over a variable over the file', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = writeFile(dir, 'berth.yaml', 'storage: { maxSize: 10GiB }\nlog: { level: warn }\n');
      const result = await runBerth(['config', 'check', file, '--max-size', '3GiB'], { BERTH_MAX_SIZE: '1GiB', BERTH_LOG_LEVEL: 'debug' });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ {2}maxSize: 3GiB$/m);
      assert.match(result.stdout, /^ {2}level: debug$/m);
    } finally {
      cleanup();
    }
  });
});
