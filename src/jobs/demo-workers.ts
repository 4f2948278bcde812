import { createSimulatedConnector } from '../../connectors/simulated.js';
import { ConnectorLogger, type ConnectorLoggerOptions } from '../logger/connector-logger.js';
import { DEMO_QUEUES, DEMO_SERVICES } from './demo-mix.js';
import { createJobWorker, type JobWorker } from './job-worker.js';
import type { Pricing } from './pricing.js';

/**
 * Demo job workers in one process (for `npm start` and `jobscope demo --workers N`): for each
 * demo queue, N workers, each with its own ConnectorLogger identity (machine, worker, service),
 * running the simulated connector, so the dashboard shows several machines and services.
 */

/** Options of {@link startDemoWorkers}. */
export interface DemoWorkersOptions {
  /** Redis URL for BullMQ, cancel requests and the loggers. */
  connection: string;
  /** Jobscope key prefix. Default `jobscope`. */
  prefix?: string;
  /** BullMQ key prefix. Default BullMQ's. */
  bullPrefix?: string;
  /** Workers per demo queue. Default 2. */
  workersPerQueue?: number;
  /** Jobs each worker runs at once. Default 4. */
  concurrency?: number;
  /** Heartbeat interval, ms. Default 5000. */
  heartbeatIntervalMs?: number;
  pricing?: Pricing;
  /** More ConnectorLogger options (stdout, level, spool, …); identity fields are set here. */
  logger?: Omit<ConnectorLoggerOptions, 'machineId' | 'workerId' | 'serviceType' | 'connectorId' | 'redis' | 'prefix'>;
  onError?: (err: unknown) => void;
}

/** The running demo workers. */
export interface DemoWorkers {
  readonly workers: readonly JobWorker[];
  /** Closes every worker, then its logger. Idempotent. */
  close(reason?: string): Promise<void>;
}

/** Starts the demo workers. */
export function startDemoWorkers(options: DemoWorkersOptions): DemoWorkers {
  const perQueue = options.workersPerQueue ?? 2;
  const entries: { worker: JobWorker; logger: ConnectorLogger }[] = [];
  for (const queue of Object.values(DEMO_QUEUES)) {
    const serviceType = DEMO_SERVICES[queue]!;
    for (let i = 1; i <= perQueue; i++) {
      const logger = new ConnectorLogger({
        stdout: false,
        ...options.logger,
        machineId: `demo-${serviceType}-${String(Math.ceil(i / 2)).padStart(2, '0')}`,
        workerId: `worker-${String(i).padStart(3, '0')}`,
        serviceType,
        connectorId: `${serviceType}-simulated`,
        redis: options.connection,
        ...(options.prefix ? { prefix: options.prefix } : {}),
      });
      const worker = createJobWorker({
        connection: options.connection,
        queue,
        connector: createSimulatedConnector({ serviceType, progressSteps: 5 }),
        logger,
        concurrency: options.concurrency ?? 4,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5000,
        ...(options.prefix ? { prefix: options.prefix } : {}),
        ...(options.bullPrefix ? { bullPrefix: options.bullPrefix } : {}),
        ...(options.pricing ? { pricing: options.pricing } : {}),
        ...(options.onError ? { onError: options.onError } : {}),
        // Stuck demo jobs must not hold a shutdown for long.
        shutdownTimeoutMs: 5000,
      });
      entries.push({ worker, logger });
    }
  }
  let closing: Promise<void> | undefined;
  return {
    workers: entries.map((e) => e.worker),
    close(reason = 'shutdown') {
      closing ??= Promise.all(
        entries.map(async ({ worker, logger }) => {
          await worker.close(reason);
          await logger.close();
        }),
      ).then(() => undefined);
      return closing;
    },
  };
}
