import type { ConnectorContext, ProgressDetail, UsageReport } from '../../../connectors/connector.js';

/** A ConnectorContext that records what a connector reported. */
export interface RecordingContext extends ConnectorContext {
  progressed: { percent: number; detail?: ProgressDetail }[];
  usage: UsageReport[];
  logs: string[];
  controller: AbortController;
}

/** Creates a recording context. */
export function recordingContext(): RecordingContext {
  const controller = new AbortController();
  const progressed: RecordingContext['progressed'] = [];
  const usage: UsageReport[] = [];
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  return {
    progressed,
    usage,
    logs,
    controller,
    signal: controller.signal,
    progress: (percent, detail) => progressed.push({ percent, ...(detail ? { detail } : {}) }),
    log: { debug: log, info: log, warn: log, error: log },
    reportUsage: (u) => usage.push(u),
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  };
}

/** The usage reports merged the way the runtime merges them (counts add, TTFT replaced). */
export function mergedUsage(reports: UsageReport[]): UsageReport {
  const out: Record<string, unknown> = {};
  for (const r of reports) {
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === 'number' && k !== 'timeToFirstTokenMs') out[k] = ((out[k] as number | undefined) ?? 0) + v;
      else out[k] = v;
    }
  }
  return out as UsageReport;
}
