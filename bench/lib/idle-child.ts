/**
 * The memory anchor: a Node process with the same runtime loaded (tsx, ioredis connected to the
 * same Redis) doing nothing else. Sends `{ type: 'ready' }`; SIGTERM exits.
 */
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
await redis.ping();
const keepAlive = setInterval(() => void redis.ping().catch(() => undefined), 1000);
process.once('SIGTERM', () => {
  clearInterval(keepAlive);
  redis.disconnect();
  process.exit(0);
});
process.send!({ type: 'ready' });
