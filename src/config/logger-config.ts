import { isAbsolute, join } from 'node:path';
import { boolVar, enumVar, intVar, readEnv, stringVar, type Env } from './env-schema.js';

/** Settings of ConnectorLogger's log lines and of its Redis publisher (buffer, batching, spool). */
export interface LoggerConfig {
  /** `LOG_LEVEL`: lowest level written as a JSON line to stdout. Default `info`. */
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** `JOBSCOPE_LOG_STDOUT`: write one JSON line per call to stdout. Default true. */
  stdout: boolean;
  /** `JOBSCOPE_BUFFER_MAX_EVENTS`: most events held in memory. Default 10000. */
  bufferMaxEvents: number;
  /** `JOBSCOPE_BUFFER_MAX_BYTES`: most bytes held in memory. Default 16 MiB. */
  bufferMaxBytes: number;
  /** `JOBSCOPE_SPOOL_DIR`: directory of the on-disk spool, absolute. Default `<cwd>/.jobscope/spool`. */
  spoolDir: string;
  /** `JOBSCOPE_SPOOL_MAX_BYTES`: largest spool file, in bytes; 0 turns the spool off. Default 256 MiB. */
  spoolMaxBytes: number;
  /** `JOBSCOPE_FLUSH_INTERVAL_MS`: longest time an event waits in memory before a flush. Default 20. */
  flushIntervalMs: number;
  /** `JOBSCOPE_FLUSH_BATCH`: events per XADD batch; a full batch flushes at once. Default 200. */
  flushBatch: number;
  /**
   * `JOBSCOPE_PACK_EVENTS`: write runs of events as packed stream entries. Default true; false
   * writes one whole event per entry, which pipelines older than packing read (turn it off while
   * job workers are upgraded before the pipeline).
   */
  packEvents: boolean;
}

const MIB = 1024 * 1024;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * Reads {@link LoggerConfig} from the environment. `cwd` resolves a relative spool directory
 * (default: the process's working directory).
 */
export function loadLoggerConfig(env: Env, cwd: string = process.cwd()): LoggerConfig {
  const v = readEnv(
    {
      LOG_LEVEL: enumVar(LEVELS, 'info'),
      JOBSCOPE_LOG_STDOUT: boolVar(true),
      JOBSCOPE_BUFFER_MAX_EVENTS: intVar(10_000, 1, 10_000_000),
      JOBSCOPE_BUFFER_MAX_BYTES: intVar(16 * MIB, 1024, 4096 * MIB),
      JOBSCOPE_SPOOL_DIR: stringVar('.jobscope/spool'),
      JOBSCOPE_SPOOL_MAX_BYTES: intVar(256 * MIB, 0, 1024 * 1024 * MIB),
      JOBSCOPE_FLUSH_INTERVAL_MS: intVar(20, 1, 60_000),
      JOBSCOPE_FLUSH_BATCH: intVar(200, 1, 100_000),
      JOBSCOPE_PACK_EVENTS: boolVar(true),
    },
    env,
  );
  const dir = v.JOBSCOPE_SPOOL_DIR;
  return {
    level: v.LOG_LEVEL,
    stdout: v.JOBSCOPE_LOG_STDOUT,
    bufferMaxEvents: v.JOBSCOPE_BUFFER_MAX_EVENTS,
    bufferMaxBytes: v.JOBSCOPE_BUFFER_MAX_BYTES,
    spoolDir: isAbsolute(dir) ? dir : join(cwd, dir),
    spoolMaxBytes: v.JOBSCOPE_SPOOL_MAX_BYTES,
    flushIntervalMs: v.JOBSCOPE_FLUSH_INTERVAL_MS,
    flushBatch: v.JOBSCOPE_FLUSH_BATCH,
    packEvents: v.JOBSCOPE_PACK_EVENTS,
  };
}
