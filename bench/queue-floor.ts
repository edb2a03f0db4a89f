/**
 * The queue's own floor: as many BullMQ jobs as the throughput run had messages, with the check queue's options,
 * queued in the watcher's slices and completed by a worker of the checker's concurrency whose processor does
 * nothing. No chain, no validation, no record: what one job per executing message costs on this machine before
 * xmsg does any work, so the highest end-to-end rate any one-job-per-message design can reach here.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CHECK_QUEUE, type CheckJobData, createCheckQueue } from '../src/jobs/checker.js';
import { messageId } from '../src/store/keys.js';
import { ENQUEUE_SLICE } from '../src/watcher/follower.js';
import { REDIS_URL } from '../test/helpers/xmsg.js';
import { type CpuSpent, cpuSpent } from './cpu.js';

export interface QueueFloorRun {
  jobs: number;
  ms: number;
  cpu: CpuSpent;
}

const hex = (byte: string, bytes: number) => `0x${byte.repeat(bytes)}` as const;

/** A job as the watcher queues it: a real message's fields, sizes included. */
function jobData(i: number, seenAt: number): CheckJobData {
  const blockHash = `0x${i.toString(16).padStart(64, '0')}` as const;
  return {
    id: messageId(972, blockHash, i % 500),
    chainId: 972,
    blockNumber: String(1_000 + Math.floor(i / 500)),
    blockHash,
    blockTimestamp: '1795000000',
    txHash: hex('ab', 32),
    logIndex: i % 500,
    msgHash: hex('cd', 32),
    identifier: { origin: hex('ef', 20), blockNumber: '900', logIndex: String(i % 500), timestamp: '1794999000', chainId: '971' },
    seenAt,
  };
}

export async function queueFloor(prefix: string, jobs: number, concurrency: number): Promise<QueueFloorRun> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = createCheckQueue(connection, prefix);
  const seenAt = Date.now();
  const data = Array.from({ length: jobs }, (_, i) => jobData(i, seenAt));
  let completed = 0;
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const worker = new Worker<CheckJobData>(
    CHECK_QUEUE,
    async () => {
      if (++completed === jobs) allDone();
    },
    { connection, prefix, concurrency, autorun: false },
  );
  try {
    const { result: ms, cpu } = await cpuSpent(async () => {
      const started = performance.now();
      void worker.run();
      for (let i = 0; i < jobs; i += ENQUEUE_SLICE) {
        await queue.addBulk(data.slice(i, i + ENQUEUE_SLICE).map((d) => ({ name: 'check', data: d, opts: { jobId: d.id } })));
      }
      await done;
      return performance.now() - started;
    });
    return { jobs, ms, cpu };
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
}
