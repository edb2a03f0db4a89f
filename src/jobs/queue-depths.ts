import type { Queue } from 'bullmq';

/** Jobs per state of every queue, by queue name: for `/xmsg health` and the `xmsg_queue_jobs` gauge. */
export async function queueDepths(queues: Record<string, Queue>): Promise<Record<string, Record<string, number>>> {
  return Object.fromEntries(
    await Promise.all(
      Object.entries(queues).map(async ([name, q]) => [name, await q.getJobCounts('waiting', 'active', 'delayed', 'failed')] as const),
    ),
  );
}
