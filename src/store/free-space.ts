/**
 * Free space on the store's filesystem. A fill asks before it begins, so a blob that cannot
 * fit is served from upstream uncached instead of failing half-way with ENOSPC.
 */
import { statfs } from 'node:fs/promises';

/** Kept free for the tag index, manifests and metadata: 2% of the disk, at most 256 MiB. */
const HEADROOM_SHARE = 0.02;
const HEADROOM_MAX = 256 * 1024 * 1024;

export class FreeSpace {
  constructor(private readonly dir: string) {}

  async fits(bytes: number): Promise<boolean> {
    let free: number;
    let total: number;
    try {
      const s = await statfs(this.dir);
      free = s.bavail * s.bsize;
      total = s.blocks * s.bsize;
    } catch {
      // Nothing known about the disk: let the write itself find out.
      return true;
    }
    const headroom = Math.min(HEADROOM_MAX, total * HEADROOM_SHARE);
    return free - headroom > bytes;
  }
}
