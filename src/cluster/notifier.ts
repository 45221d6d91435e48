/**
 * Redis pub/sub for "this work is done" messages between nodes: one subscriber connection per
 * node, channels subscribed while someone here waits on them.
 */
import type { Redis } from 'ioredis';

type Listener = (message: string) => void;

export interface Subscription {
  /** Resolves with the next message, or undefined after timeoutMs. */
  next(timeoutMs: number): Promise<string | undefined>;
  close(): void;
}

export class Notifier {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      for (const l of this.listeners.get(channel) ?? []) l(message);
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(channel, message).catch(() => undefined);
  }

  /** Subscribes (resolving once Redis confirmed, or failed: waiters then rely on polling). */
  async listen(channel: string): Promise<Subscription> {
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    const listener: Listener = (m) => {
      queue.push(m);
      wake?.();
    };
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.subscriber.subscribe(channel).catch(() => undefined);
    }
    set.add(listener);
    return {
      next: (timeoutMs) => {
        const queued = queue.shift();
        if (queued !== undefined) return Promise.resolve(queued);
        return new Promise((resolve) => {
          const timer = setTimeout(() => {
            wake = undefined;
            resolve(undefined);
          }, timeoutMs);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve(queue.shift());
          };
        });
      },
      close: () => {
        const s = this.listeners.get(channel);
        if (!s) return;
        s.delete(listener);
        if (s.size === 0) {
          this.listeners.delete(channel);
          void this.subscriber.unsubscribe(channel).catch(() => undefined);
        }
      },
    };
  }
}
