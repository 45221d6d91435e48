/**
 * Worker thread: runs N concurrent pulls of one image and posts the timings back. Pulls run off
 * the main thread, whose event loop hosts the counting proxies, so neither slows the other.
 */
import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { pullImage, type PullResult, type PullTarget } from './pull.js';

export interface PullJob {
  target: PullTarget;
  clients: number;
  timeoutMs: number;
}

export interface PullBatch {
  wallMs: number;
  results: PullResult[];
  errors: string[];
}

async function main(job: PullJob): Promise<PullBatch> {
  const signal = AbortSignal.timeout(job.timeoutMs);
  // Every request of every client listens on this one deadline.
  setMaxListeners(64 * job.clients + 16, signal);
  const started = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: job.clients }, () => pullImage(job.target, signal)));
  const wallMs = performance.now() - started;
  const results: PullResult[] = [];
  const errors: string[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') results.push(s.value);
    else errors.push(s.reason instanceof Error ? s.reason.message : String(s.reason));
  }
  return { wallMs, results, errors };
}

if (parentPort) {
  const port = parentPort;
  main(workerData as PullJob).then(
    (batch) => port.postMessage(batch),
    (e: unknown) => port.postMessage({ wallMs: 0, results: [], errors: [e instanceof Error ? e.message : String(e)] } satisfies PullBatch),
  );
}
