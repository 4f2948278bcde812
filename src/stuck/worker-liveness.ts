import type { WorkerLiveness, WorkerRecord } from '../status/types.js';

/**
 * Liveness per worker. The status reader judges each registry record (dead after 3 heartbeat
 * intervals of silence, stopped after `worker.stopped`); a worker known under several services
 * has several records, and its most alive one wins.
 */

/** Key of a worker: `<machineId>/<workerId>`. */
export function workerKey(machineId: string, workerId: string): string {
  return `${machineId}/${workerId}`;
}

const RANK: Record<WorkerLiveness, number> = { busy: 3, idle: 2, stopped: 1, dead: 0 };

/** The more alive of two livenesses. */
export function mergeLiveness(a: WorkerLiveness, b: WorkerLiveness): WorkerLiveness {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Liveness per worker key. */
export function livenessByWorker(workers: readonly WorkerRecord[]): Map<string, WorkerLiveness> {
  const out = new Map<string, WorkerLiveness>();
  for (const w of workers) {
    const key = workerKey(w.machineId, w.workerId);
    const prev = out.get(key);
    out.set(key, prev === undefined ? w.liveness : mergeLiveness(prev, w.liveness));
  }
  return out;
}
