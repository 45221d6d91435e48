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

interface Channel {
  readonly listeners: Set<Listener>;
  /** Settles once Redis confirmed the subscription (or refused it). */
  readonly ready: Promise<void>;
}

export class Notifier {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      for (const l of this.channels.get(channel)?.listeners ?? []) l(message);
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(channel, message).catch(() => undefined);
  }

  /**
   * Subscribes, resolving once Redis confirmed (or failed: waiters then rely on polling). A
   * second listener on a channel waits for the same confirmation: a message published between
   * its return and the confirmation would otherwise be lost to it.
   */
  async listen(channel: string): Promise<Subscription> {
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    const listener: Listener = (m) => {
      queue.push(m);
      wake?.();
    };
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = { listeners: new Set(), ready: this.subscriber.subscribe(channel).then(() => undefined, () => undefined) };
      this.channels.set(channel, ch);
    }
    ch.listeners.add(listener);
    await ch.ready;
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
        const c = this.channels.get(channel);
        if (!c) return;
        c.listeners.delete(listener);
        if (c.listeners.size === 0) {
          this.channels.delete(channel);
          void this.subscriber.unsubscribe(channel).catch(() => undefined);
        }
      },
    };
  }
}
