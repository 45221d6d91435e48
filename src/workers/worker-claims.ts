/**
 * A worker's claims on fills and manifest fetches, through the primary. As owner, its fill
 * publishes its spool and sends its progress (at most one update per PROGRESS_MS, the latest
 * one, and every phase change at once); as follower, it reads the owner's spool as the relayed
 * progress allows. A follower registers the digest before it asks, so no update is missed.
 */
import type { Digest } from '../oci/digest.js';
import type { FillClaim } from '../proxy/fill/fill.js';
import { FillProgress, type ProgressView } from '../proxy/fill/progress.js';
import type { PartialReader } from '../store/blob-store.js';
import type { ClaimKind, FillUpdate, PrimaryApi } from './protocol.js';
import type { Peer } from './rpc.js';

const PROGRESS_MS = 2;

interface Following {
  readonly progress: FillProgress;
  readonly settle: (committed: boolean) => void;
  readonly settled: Promise<boolean>;
}

export class WorkerClaims {
  private readonly following = new Map<string, Following>();

  constructor(private readonly primary: Peer<PrimaryApi>) {}

  /** A progress update of a fill this worker follows. */
  update(u: FillUpdate): void {
    const f = this.following.get(u.digest);
    if (!f) return;
    const s = f.progress.get();
    f.progress.update({ available: Math.max(s.available, u.available ?? 0), ...(u.phase ? { phase: u.phase } : {}), ...(u.phase === 'failed' ? { failure: new Error('the filling worker failed') } : {}) });
    if (u.settled === undefined) return;
    this.following.delete(u.digest);
    f.settle(u.settled);
  }

  /** The FillClaim seam of fills (and manifests): `follow` opens another worker's spool by name. */
  claimer(kind: ClaimKind, follow?: (spool: string) => Promise<PartialReader | undefined>): (digest: Digest) => Promise<FillClaim> {
    return async (digest) => {
      const d = digest.value;
      const following = kind === 'blob' ? this.register(d) : undefined;
      const reply = await this.primary.call('claim', { kind, digest: d }).catch(() => undefined);
      if (reply?.kind === 'follow' && following && follow) {
        return { kind: 'follow', size: reply.size, progress: following.progress, settled: following.settled, open: () => follow(reply.spool) };
      }
      this.following.delete(d);
      if (reply?.kind === 'stored') return reply;
      // Owner, or no primary (it is exiting, and so are we): fetch.
      return {
        kind: 'owner',
        release: async (committed) => this.primary.notify('release', { kind, digest: d, committed }),
        publish: (spool, progress) => {
          this.primary.notify('publish', { digest: d, spool, size: progress.get().size });
          void this.relay(d, progress);
        },
      };
    };
  }

  private register(digest: string): Following {
    let settle!: (committed: boolean) => void;
    const settled = new Promise<boolean>((resolve) => (settle = resolve));
    const f: Following = { progress: new FillProgress(), settle, settled };
    this.following.set(digest, f);
    return f;
  }

  /** Sends the owner's progress until its fill is verified or failed. */
  private async relay(digest: string, progress: ProgressView): Promise<void> {
    let sent = -1;
    for (;;) {
      const s = progress.get();
      const terminal = s.phase === 'verified' || s.phase === 'failed';
      if (s.available !== sent || terminal) {
        sent = s.available;
        this.primary.notify('progress', { digest, available: s.available, phase: s.phase === 'starting' ? 'running' : s.phase });
      }
      if (terminal) return;
      await progress.changed();
      // Coalesce: one update carries every write of the last few milliseconds.
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_MS));
    }
  }
}
