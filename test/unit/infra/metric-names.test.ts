import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Dashboards and alerts break silently when a metric is renamed: every jobscope_ metric they
// use must be one of the agreed names (the list the metric owners register, README "Metrics").

const ROOT = join(import.meta.dirname, '..', '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The agreed Prometheus metric names, by owner. */
const AGREED = {
  pipeline: [
    'jobscope_sink_writes_total',
    'jobscope_sink_write_duration_seconds',
    'jobscope_sink_events_total',
    'jobscope_sink_breaker_state',
    'jobscope_group_lag',
    'jobscope_group_pending',
    'jobscope_stream_length',
    'jobscope_dead_letters_total',
    'jobscope_dead_letter_stream_length',
    'jobscope_groups_recreated_total',
    'jobscope_events_consumed_total',
  ],
  metricsSink: [
    'jobscope_events_total',
    'jobscope_jobs_total',
    'jobscope_job_duration_seconds',
    'jobscope_job_queue_wait_seconds',
    'jobscope_ai_tokens_total',
    'jobscope_ai_cost_usd_total',
    'jobscope_ai_time_to_first_token_seconds',
  ],
  readSide: ['jobscope_jobs_stuck', 'jobscope_jobs_orphaned', 'jobscope_jobs_waiting_too_long', 'jobscope_workers', 'jobscope_jobs_by_state'],
  publisher: ['jobscope_publisher_events_total', 'jobscope_publisher_buffered_events'],
};
const HISTOGRAMS = ['jobscope_sink_write_duration_seconds', 'jobscope_job_duration_seconds', 'jobscope_job_queue_wait_seconds', 'jobscope_ai_time_to_first_token_seconds'];
const AGREED_NAMES = new Set(Object.values(AGREED).flat());

/** Every jobscope_ metric name in a text, with a histogram's _bucket/_sum/_count mapped to its name. */
function metricNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const [name] of text.matchAll(/\bjobscope_[a-z0-9_]+/g)) {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    out.add(HISTOGRAMS.includes(base) ? base : name);
  }
  return out;
}

/** Every PromQL expression of the Grafana dashboard. */
function dashboardExprs(): string[] {
  const dashboard = JSON.parse(read('infra/grafana/dashboards/jobscope.json')) as { panels: { targets?: { expr: string }[] }[]; templating: { list: { definition?: string }[] } };
  return [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.definition ?? '')];
}

describe('agreed metric names', () => {
  it('the extraction sees histogram series and rejects names that are not agreed', () => {
    const names = metricNames('rate(jobscope_job_duration_seconds_bucket[5m]) + jobscope_jobs_failed_total + jobscope_jobs_total');
    expect([...names].sort()).toEqual(['jobscope_job_duration_seconds', 'jobscope_jobs_failed_total', 'jobscope_jobs_total']);
    expect([...names].filter((n) => !AGREED_NAMES.has(n))).toEqual(['jobscope_jobs_failed_total']);
  });

  it('alerts.yml uses only agreed metric names', () => {
    const used = metricNames(read('infra/prometheus/alerts.yml'));
    expect([...used].filter((n) => !AGREED_NAMES.has(n))).toEqual([]);
    // The alerts the deployment promises are there.
    for (const name of ['jobscope_jobs_total', 'jobscope_jobs_stuck', 'jobscope_jobs_orphaned', 'jobscope_group_lag', 'jobscope_dead_letters_total', 'jobscope_sink_breaker_state', 'jobscope_ai_cost_usd_total', 'jobscope_workers', 'jobscope_publisher_events_total']) {
      expect(used.has(name), name).toBe(true);
    }
  });

  it('the Grafana dashboard uses only agreed metric names and shows every job and pipeline metric', () => {
    const used = metricNames(dashboardExprs().join('\n'));
    expect([...used].filter((n) => !AGREED_NAMES.has(n))).toEqual([]);
    for (const name of [...AGREED.metricsSink, ...AGREED.pipeline, ...AGREED.readSide]) expect(used.has(name), name).toBe(true);
  });

  it('histogram panels query the _bucket series (a bare histogram name has no samples)', () => {
    for (const expr of dashboardExprs()) {
      for (const h of HISTOGRAMS) {
        if (expr.includes(h)) expect(expr, expr).toContain(`${h}_bucket`);
      }
    }
  });
});
