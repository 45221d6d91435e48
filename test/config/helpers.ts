/** Shared fixtures for the config tests. Not a test file itself. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadOptions } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';

/** Repository root: tests run from dist/test/config/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const defaultYaml = join(repoRoot, 'config', 'default.yaml');
export const examplesDir = join(repoRoot, 'config', 'examples');

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Loads and fails the test with the error list when loading fails. */
export function mustLoad(opts: Partial<LoadOptions>): Config {
  const result = loadConfig({ env: {}, flags: {}, ...opts });
  if (!result.ok) throw new Error(`expected config to load, got:\n${result.errors.join('\n')}`);
  return result.config;
}

/** Loads and returns the errors, failing the test when loading succeeds. */
export function mustFail(opts: Partial<LoadOptions>): string[] {
  const result = loadConfig({ env: {}, flags: {}, ...opts });
  if (result.ok) throw new Error('expected config loading to fail, but it succeeded');
  return result.errors;
}

/** Loads YAML text written to a fresh temporary file. */
export function withYaml<T>(text: string, run: (file: string, dir: string) => T): T {
  const { dir, cleanup } = tempDir();
  try {
    return run(writeFile(dir, 'berth.yaml', text), dir);
  } finally {
    cleanup();
  }
}
