/**
 * CPU spent during one timed section, by the two processes that do xmsg's work: this one (xmsg, and the devnet's
 * RPC proxy) and Redis. Wall time on a shared 2-core machine drifts from run to run; CPU per message is steadier
 * and tells where the time goes.
 */
import { Redis } from 'ioredis';
import { REDIS_URL } from '../test/helpers/xmsg.js';

export interface CpuSpent {
  processMs: number;
  redisMs: number;
}

async function redisCpuMs(): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    const info = await redis.info('cpu');
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
  } finally {
    redis.disconnect();
  }
}

export async function cpuSpent<T>(run: () => Promise<T>): Promise<{ result: T; cpu: CpuSpent }> {
  const redisBefore = await redisCpuMs();
  const processBefore = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(processBefore);
  const redisMs = (await redisCpuMs()) - redisBefore;
  return { result, cpu: { processMs: (used.user + used.system) / 1000, redisMs } };
}
