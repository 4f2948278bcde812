import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A consumer name unique to this process: `hostname-pid-random`. Several pipeline processes
 * share each group, so names must never collide; a stable name (PIPELINE_CONSUMER_NAME) lets
 * a restarted process read its own pending entries first instead of waiting for a claim.
 */
export function defaultConsumerName(host: string = hostname(), pid: number = process.pid): string {
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'host';
  return `${safeHost}-${pid}-${randomBytes(3).toString('hex')}`;
}
