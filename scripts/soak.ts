/**
 * `npm run soak`: scenario 10 for 10 minutes (pass another number of minutes as the first argument) at a steady rate with a
 * random fault every minute; prints progress and the verdict. Exit code 1 on failure.
 */
import { testRedis } from '../test/helpers/redis.js';
import { describeFailures, resultsTable, scenarioPasses } from '../test/reliability/scenario-result.js';
import { runSoak } from '../test/reliability/scenarios/soak.js';

const minutes = Number(process.argv[2] ?? 10);
const redis = testRedis();
const result = await runSoak({ redis, seed: Date.now() % 1000, durationMs: minutes * 60_000, jobsPerSecond: 40, faultEveryMs: 60_000, onProgress: (l) => console.log(l) });
redis.disconnect();
console.log(`\n${resultsTable([result])}\n${describeFailures(result)}`);
process.exitCode = scenarioPasses(result) ? 0 : 1;
