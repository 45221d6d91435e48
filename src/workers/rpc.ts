/**
 * Typed calls and notifications over a process's IPC channel (cluster primary ↔ worker).
 * Each side declares the methods it serves; a call resolves with the other side's answer,
 * or rejects when the peer is gone. Messages carry a marker so other IPC users (prom-client,
 * Node's cluster internals) are left alone.
 */

/** Methods a side serves: one argument, a value or a promise back. */
export type Api = Record<string, (arg: never) => unknown>;

export type Arg<A extends Api, K extends keyof A> = Parameters<A[K]>[0];
export type Result<A extends Api, K extends keyof A> = Awaited<ReturnType<A[K]>>;

/** A process IPC endpoint: `process` in a worker, `worker` in the primary. */
export interface Channel {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

const MARK = 'berth-rpc';

interface Request {
  readonly [MARK]: 1;
  readonly id?: number;
  readonly m: string;
  readonly a: unknown;
}

interface Reply {
  readonly [MARK]: 1;
  readonly r: number;
  readonly v?: unknown;
  readonly e?: string;
}

function isMessage(m: unknown): m is Request | Reply {
  return typeof m === 'object' && m !== null && (m as Record<string, unknown>)[MARK] === 1;
}

export class Peer<Remote extends Api> {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closed = false;
  private readonly listener = (m: unknown): void => this.receive(m);

  constructor(
    private readonly channel: Channel,
    /** What this side serves; `this` is not bound. */
    private readonly local: Api,
    /** A handler threw: the caller gets a rejection, the owner hears about it here. */
    private readonly onError: (method: string, err: unknown) => void = () => undefined,
  ) {
    channel.on('message', this.listener);
  }

  call<K extends keyof Remote & string>(method: K, arg: Arg<Remote, K>): Promise<Result<Remote, K>> {
    if (this.closed) return Promise.reject(new Error('peer is gone'));
    const id = this.next++;
    return new Promise<Result<Remote, K>>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as Result<Remote, K>), reject });
      this.send({ [MARK]: 1, id, m: method, a: arg });
    });
  }

  notify<K extends keyof Remote & string>(method: K, arg: Arg<Remote, K>): void {
    if (!this.closed) this.send({ [MARK]: 1, m: method, a: arg });
  }

  /** The peer exited: every pending call rejects, later calls reject at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.off('message', this.listener);
    for (const p of this.pending.values()) p.reject(new Error('peer is gone'));
    this.pending.clear();
  }

  private send(message: Request | Reply): void {
    try {
      this.channel.send(message);
    } catch {
      // The channel closed under us; the exit handler closes this peer.
    }
  }

  private receive(m: unknown): void {
    if (!isMessage(m)) return;
    if ('r' in m) {
      const p = this.pending.get(m.r);
      if (!p) return;
      this.pending.delete(m.r);
      if (m.e !== undefined) p.reject(new Error(m.e));
      else p.resolve(m.v);
      return;
    }
    const handler = this.local[m.m] as ((arg: unknown) => unknown) | undefined;
    const id = m.id;
    let out: unknown;
    try {
      if (!handler) throw new Error(`unknown method ${m.m}`);
      out = handler(m.a);
    } catch (err) {
      this.failed(m.m, id, err);
      return;
    }
    if (id === undefined) {
      if (out instanceof Promise) out.catch((err: unknown) => this.onError(m.m, err));
      return;
    }
    Promise.resolve(out).then(
      (v) => this.send({ [MARK]: 1, r: id, v }),
      (err: unknown) => this.failed(m.m, id, err),
    );
  }

  private failed(method: string, id: number | undefined, err: unknown): void {
    this.onError(method, err);
    if (id !== undefined) this.send({ [MARK]: 1, r: id, e: err instanceof Error ? err.message : String(err) });
  }
}
