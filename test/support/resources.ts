/**
 * What a process holds open, for leak assertions: file descriptors (all, and those on files
 * under a directory), resident memory, and the entries of a temp directory. Linux /proc only.
 */
import { readdir, readlink } from 'node:fs/promises';

/** Open file descriptors of this process. */
export async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

/** Open file descriptors of this process on files under `dir` (blobs, temp files). */
export async function openFilesUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    // A descriptor closed between readdir and readlink is simply no longer open.
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(prefix)) out.push(target);
  }
  return out;
}

/** Names in a directory (empty when it does not exist). */
export async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

export function rssBytes(): number {
  return process.memoryUsage().rss;
}
