import { boolVar, intVar, readEnv, stringVar, urlVar, type Env } from './env-schema.js';

/** Where Redis is and how Jobscope names its keys there. */
export interface RedisConfig {
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  url: string;
  /** True when `REDIS_URL` was set explicitly. */
  urlExplicit: boolean;
  /** `JOBSCOPE_PREFIX`: key prefix, default `jobscope`. */
  prefix: string;
  /** `JOBSCOPE_SHARDS`: number of event streams, default 1. */
  shards: number;
  /** `JOBSCOPE_REDIS_CLUSTER`: connect as a cluster client, default false. */
  cluster: boolean;
}

/** Reads {@link RedisConfig} from the environment. */
export function loadRedisConfig(env: Env): RedisConfig {
  const v = readEnv(
    {
      REDIS_URL: urlVar(['redis:', 'rediss:']),
      JOBSCOPE_PREFIX: stringVar('jobscope').refine((s) => /^[A-Za-z0-9._:-]{1,64}$/.test(s), {
        message: 'must be 1-64 characters: letters, digits, ".", "_", ":" or "-"',
      }),
      JOBSCOPE_SHARDS: intVar(1, 1, 256),
      JOBSCOPE_REDIS_CLUSTER: boolVar(false),
    },
    env,
  );
  return {
    url: v.REDIS_URL ?? 'redis://127.0.0.1:6379',
    urlExplicit: v.REDIS_URL !== undefined,
    prefix: v.JOBSCOPE_PREFIX,
    shards: v.JOBSCOPE_SHARDS,
    cluster: v.JOBSCOPE_REDIS_CLUSTER,
  };
}
