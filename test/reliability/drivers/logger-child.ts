/**
 * A job worker's logger in a child process, for scenario 2 (SIGKILL a job worker while it
 * publishes). Run with `node --import tsx`. Settings come as JSON in LOGGER_CHILD (see
 * {@link LoggerChildSettings}). A real ConnectorLogger publishes `count` numbered log events
 * (`tickEvents` every `tickMs`) with a small memory bound and a spool, so events spill to disk
 * while Redis is away. Every few ms the child appends its publisher counters to `statsFile`
 * (`accepted published replayed spooled spoolPending`, one line per change): what it says was
 * published, Redis confirmed. Prints `producer <id>` at start and, with `closeAtEnd`,
 * `done <close result> <stats JSON>` after a clean close.
 */
import { appendFileSync } from 'node:fs';
import { ConnectorLogger } from '../../../src/logger/connector-logger.js';

/** Settings of a logger child. */
export interface LoggerChildSettings {
  redisUrl: string;
  prefix: string;
  spoolDir: string;
  statsFile: string;
  count: number;
  tickEvents: number;
  tickMs: number;
  bufferMaxEvents: number;
  closeAtEnd: boolean;
}

const s = JSON.parse(process.env.LOGGER_CHILD ?? '{}') as LoggerChildSettings;
const logger = new ConnectorLogger({
  machineId: 'rel-machine', workerId: 'rel-worker', serviceType: 'simulated', connectorId: 'rel-conn',
  redis: s.redisUrl, prefix: s.prefix, stdout: false, level: 'silent',
  spoolDir: s.spoolDir, spoolName: 'rel-worker', bufferMaxEvents: s.bufferMaxEvents, flushBatch: 20, commandTimeoutMs: 1000,
});
process.stdout.write(`producer ${logger.producer}\n`);

let last = '';
const report = () => {
  const st = logger.stats();
  const line = `${st.accepted} ${st.published} ${st.replayed} ${st.spooled} ${st.spoolPending}`;
  if (line !== last) appendFileSync(s.statsFile, `${line}\n`);
  last = line;
};
const reporter = setInterval(report, 5);

let n = 0;
const emitter = setInterval(() => {
  for (let i = 0; i < s.tickEvents && n < s.count; i++, n++) logger.log('info', `event ${n}`, { n });
  if (n < s.count) return;
  clearInterval(emitter);
  if (!s.closeAtEnd) return;
  void logger.close(20_000).then((ok) => {
    report();
    clearInterval(reporter);
    process.stdout.write(`done ${ok} ${JSON.stringify(logger.stats())}\n`);
  });
}, s.tickMs);
