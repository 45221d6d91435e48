/**
 * Calls back when any of the files changes, by polling their stat (fs.watchFile). Polling, unlike
 * fs.watch, keeps working when a file is replaced by a rename or a symlink swap (certbot,
 * Kubernetes secret and ConfigMap mounts). Returns the function that stops watching.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';

export function watchFiles(paths: readonly string[], intervalMs: number, onChange: (path: string) => void): () => void {
  const listeners = paths.map((path) => {
    const listener = (curr: Stats, prev: Stats): void => {
      if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) onChange(path);
    };
    watchFile(path, { interval: intervalMs, persistent: false }, listener);
    return { path, listener };
  });
  return () => {
    for (const { path, listener } of listeners) unwatchFile(path, listener);
  };
}
