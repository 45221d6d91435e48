import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  path: string;
  close(): Promise<void>;
}

/** Creates a fresh directory under the OS temp dir; close() removes it recursively. */
export async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `berth-${prefix}-`));
  return {
    path,
    close: () => rm(path, { recursive: true, force: true, maxRetries: 3 }),
  };
}
