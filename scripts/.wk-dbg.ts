import { testRedis } from '../test/helpers/redis.js';
import { runWorkerKill } from '../test/reliability/scenarios/worker-kill.js';
const redis = testRedis();
for (const [seed, during] of [[1, 'up'], [2, 'outage']] as const) {
  const r = await runWorkerKill({ redis, seed, during, events: 3000 });
  console.log(r.scenario, JSON.stringify(r.verdicts[0]), r.checks.map((c) => c.detail).join(' | '));
}
redis.disconnect();
