import type { WorkerLiveness, WorkerRecord } from '../../status/types.js';
import { mergeLiveness } from '../../stuck/worker-liveness.js';

/** One worker in the tree. */
export interface WorkerNode {
  workerId: string;
  liveness: WorkerLiveness;
  lastHeartbeatAt?: number;
  currentJobs: string[];
  services: { serviceType: string; connectorId: string; instance?: string }[];
}

/** The machine → worker → service tree with liveness counts (per worker). */
export interface WorkerTree {
  machines: { machineId: string; workers: WorkerNode[] }[];
  counts: Record<WorkerLiveness, number>;
}

/** Builds the tree from registry records (one per worker and service, liveness judged by the reader). */
export function buildWorkerTree(records: readonly WorkerRecord[]): WorkerTree {
  const machines = new Map<string, Map<string, WorkerNode>>();
  for (const r of records) {
    const workers = machines.get(r.machineId) ?? new Map<string, WorkerNode>();
    machines.set(r.machineId, workers);
    const liveness = r.liveness;
    const node = workers.get(r.workerId);
    const service = r.instance === undefined ? { serviceType: r.serviceType, connectorId: r.connectorId } : { serviceType: r.serviceType, connectorId: r.connectorId, instance: r.instance };
    if (!node) {
      const created: WorkerNode = { workerId: r.workerId, liveness, currentJobs: [...r.currentJobs], services: [service] };
      if (r.lastHeartbeatAt !== undefined) created.lastHeartbeatAt = r.lastHeartbeatAt;
      workers.set(r.workerId, created);
      continue;
    }
    node.liveness = mergeLiveness(node.liveness, liveness);
    node.services.push(service);
    for (const j of r.currentJobs) if (!node.currentJobs.includes(j)) node.currentJobs.push(j);
    if (r.lastHeartbeatAt !== undefined && (node.lastHeartbeatAt ?? 0) < r.lastHeartbeatAt) node.lastHeartbeatAt = r.lastHeartbeatAt;
  }
  const counts: Record<WorkerLiveness, number> = { busy: 0, idle: 0, dead: 0, stopped: 0 };
  const out = [...machines.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([machineId, workers]) => {
      const list = [...workers.values()].sort((a, b) => a.workerId.localeCompare(b.workerId));
      for (const w of list) counts[w.liveness]++;
      return { machineId, workers: list };
    });
  return { machines: out, counts };
}
