import type { JobRecord } from '../status/types.js';

/** Links from a job to the user's trace UI and Sentry. */
export interface JobLinks {
  trace?: string;
  sentry?: string;
}

/**
 * Fills `{traceId}`, `{jobId}` and `{eventId}` in `template` (values URL-encoded); undefined
 * when a placeholder the template uses has no value for this job.
 */
export function fillTemplate(template: string, values: Record<string, string | undefined>): string | undefined {
  let missing = false;
  const url = template.replace(/\{(traceId|jobId|eventId)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) missing = true;
    return encodeURIComponent(v ?? '');
  });
  return missing ? undefined : url;
}

/** The links of one job from the configured templates. */
export function jobLinks(job: JobRecord, templates: { traceUrlTemplate?: string; sentryUrlTemplate?: string } = {}): JobLinks {
  const values = { traceId: job.traceId, jobId: job.id, eventId: job.lastEventId };
  const links: JobLinks = {};
  const trace = templates.traceUrlTemplate ? fillTemplate(templates.traceUrlTemplate, values) : undefined;
  const sentry = templates.sentryUrlTemplate ? fillTemplate(templates.sentryUrlTemplate, values) : undefined;
  if (trace) links.trace = trace;
  if (sentry) links.sentry = sentry;
  return links;
}
