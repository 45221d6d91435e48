/** Runs a batch of concurrent pulls in a worker thread, bounded by the job's deadline. */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { withTimeout } from './cleanup.js';
import type { PullBatch, PullJob } from './pull-worker.js';
import type { PullTarget } from './pull.js';

const WORKER = new URL('./pull-worker.js', import.meta.url);

export async function runPulls(target: PullTarget, clients: number, timeoutMs: number): Promise<PullBatch> {
  const job: PullJob = { target, clients, timeoutMs };
  const worker = new Worker(WORKER, { workerData: job });
  try {
    const [batch] = (await withTimeout(once(worker, 'message'), timeoutMs + 10_000, `${clients} pulls of ${target.baseUrl}`)) as [PullBatch];
    return batch;
  } finally {
    await worker.terminate();
  }
}

/** Like runPulls, but throws when any pull failed. */
export async function pullsOk(target: PullTarget, clients: number, timeoutMs: number): Promise<PullBatch> {
  const b = await runPulls(target, clients, timeoutMs);
  if (b.errors.length > 0) throw new Error(`${b.errors.length}/${clients} pulls from ${target.baseUrl} failed: ${b.errors[0] ?? ''}`);
  return b;
}
