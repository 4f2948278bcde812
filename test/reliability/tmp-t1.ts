import { testRedis } from '/work/main/test/helpers/redis.js';
import { runSigkillPipeline } from '/work/main/test/reliability/scenarios/sigkill-pipeline.js';
const redis = testRedis();
const t = Date.now();
const r = await runSigkillPipeline({ redis, seed: 7, jobsPerRound: 40, rounds: 2 });
console.log(Date.now() - t, JSON.stringify(r));
redis.disconnect();
