import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { ConnectorLogger, type ConnectorLoggerOptions } from '../../../src/logger/connector-logger.js';
import { cleanupPrefix, testPrefix, testRedis, TEST_REDIS_URL } from '../../helpers/redis.js';

/** What each test of a logger suite gets fresh: a Redis client, a key prefix, a spool directory. */
export interface LoggerTestEnv {
  readonly redis: Redis;
  readonly prefix: string;
  readonly spoolDir: string;
  /** A ConnectorLogger on the test's Redis, prefix and spool directory; closed after the test. */
  logger(options: ConnectorLoggerOptions): ConnectorLogger;
}

/** Registers the per-test setup and clean-up (keys, spool files, open loggers) of a logger suite. */
export function useLoggerTestEnv(name: string): LoggerTestEnv {
  let redis: Redis | undefined;
  let prefix = '';
  let spoolDir = '';
  const loggers: ConnectorLogger[] = [];
  beforeEach(() => {
    redis = testRedis();
    prefix = testPrefix(name);
    spoolDir = mkdtempSync(join(tmpdir(), `jobscope-${name}-`));
  });
  afterEach(async () => {
    await Promise.all(loggers.splice(0).map((l) => l.close(1000)));
    await cleanupPrefix(redis!, prefix);
    redis!.disconnect();
    rmSync(spoolDir, { recursive: true, force: true });
  });
  return {
    get redis() {
      return redis!;
    },
    get prefix() {
      return prefix;
    },
    get spoolDir() {
      return spoolDir;
    },
    logger(options) {
      const logger = new ConnectorLogger({ redis: TEST_REDIS_URL, prefix, spoolDir, ...options });
      loggers.push(logger);
      return logger;
    },
  };
}
