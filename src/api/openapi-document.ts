import { JOB_STATES } from '../status/types.js';

/**
 * The OpenAPI 3.1 description of the API, written by hand next to the routes (the test
 * checks that every registered route is described).
 */

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const num: Schema = { type: 'number' };
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const q = (name: string, description: string, schema: Schema = str) => ({ name, in: 'query', required: false, description, schema });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const ok = (description: string, schema: Schema) => ({ description, content: json(schema) });
const errors = {
  '400': { $ref: '#/components/responses/BadParameter' },
  '401': { $ref: '#/components/responses/Unauthorized' },
  '403': { $ref: '#/components/responses/Forbidden' },
};
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, required });
const arr = (items: Schema): Schema => ({ type: 'array', items });
const percentiles = obj({ p50: num, p95: num });

const schemas: Record<string, Schema> = {
  Error: obj({ error: obj({ code: str, message: str }, ['code', 'message']) }, ['error']),
  JobState: { type: 'string', enum: [...JOB_STATES] },
  JobView: {
    type: 'object',
    description: 'A job record of the status store, with the stuck detector flags.',
    required: ['id', 'state', 'attempt', 'machineId', 'workerId', 'serviceType', 'connectorId', 'updatedAt', 'lastEventId', 'lastEventType', 'eventCount'],
    properties: {
      id: str, state: ref('JobState'), attempt: int, queue: str, name: str, machineId: str, workerId: str, serviceType: str, connectorId: str,
      enqueuedAt: int, receivedAt: int, startedAt: int, finishedAt: int, updatedAt: int, durationMs: num, queueWaitMs: num,
      progress: num, stage: str, ai: { type: 'object' }, lastError: obj({ type: str, category: str, message: str, stack: str, code: str }),
      willRetry: { type: 'boolean' }, traceId: str, spanId: str, lastEventId: str, lastEventType: str, eventCount: int,
      flags: obj({ stuck: { type: 'boolean' }, orphaned: { type: 'boolean' }, waitingTooLong: { type: 'boolean' } }),
    },
  },
  TimelineEntry: obj({ eventId: str, type: str, time: int, attempt: int, level: str, message: str, progress: num, durationMs: num, errorType: str, errorMessage: str }, ['eventId', 'type', 'time', 'attempt', 'level']),
  FeedEntry: obj({ id: str, kind: { type: 'string', enum: ['job', 'worker'] }, eventId: str, eventType: str, time: int, jobId: str, state: ref('JobState'), attempt: int, progress: num, willRetry: { type: 'boolean', description: 'job.failed only: whether a retry follows this failed attempt (state is failed for both); absent when not known' }, machineId: str, workerId: str, serviceType: str, connectorId: str }, ['id', 'kind', 'eventId', 'eventType', 'time']),
  Worker: obj({
    workerId: str, liveness: { type: 'string', enum: ['busy', 'idle', 'dead', 'stopped'] }, lastHeartbeatAt: int, currentJobs: arr(str),
    services: arr(obj({ serviceType: str, connectorId: str, instance: str })),
  }),
  ErrorGroup: obj({ fingerprint: str, serviceType: str, errorType: str, category: str, message: str, count: int, firstSeen: int, lastSeen: int, exampleJobId: str }),
  DlqEntry: obj({ id: str, reason: str, code: str, sink: str, deliveries: int, originalStream: str, originalId: str, eventId: str, eventType: str, part: int, time: int }),
};

const filters = [
  q('state', 'Job state', ref('JobState')), q('service', 'Service type'), q('machine', 'Machine id'), q('worker', 'Worker id'),
  q('connector', 'Connector id'), q('model', 'AI model'), q('from', 'Updated at or after (Unix ms or ISO-8601)'),
  q('to', 'Updated at or before (Unix ms or ISO-8601)'), q('q', 'Job id prefix'),
  q('limit', 'Page size, 1-500 (default 50)', { type: 'integer', minimum: 1, maximum: 500 }), q('cursor', 'From the previous page'),
];

const paths: Record<string, unknown> = {
  '/api/jobs': { get: { summary: 'List jobs, newest update first', parameters: filters, responses: { '200': ok('A page of jobs', obj({ jobs: arr(ref('JobView')), nextCursor: str }, ['jobs'])), ...errors } } },
  '/api/jobs/{id}': {
    get: {
      summary: 'One job with its timeline and links (API token or that job\'s token)',
      parameters: [{ name: 'id', in: 'path', required: true, schema: str }],
      responses: { '200': ok('The job', obj({ job: ref('JobView'), timeline: arr(ref('TimelineEntry')), links: obj({ trace: str, sentry: str }) }, ['job', 'timeline', 'links'])), '404': { $ref: '#/components/responses/NotFound' }, ...errors },
    },
  },
  '/api/job-tokens': {
    post: {
      summary: 'Mint a read-only token for one job (API token only)',
      requestBody: { required: true, content: json(obj({ jobId: str, ttlSeconds: { type: 'integer', minimum: 1, default: 3600 } }, ['jobId'])) },
      responses: { '201': ok('The token', obj({ token: str, expiresAt: int }, ['token', 'expiresAt'])), ...errors },
    },
  },
  '/api/workers': { get: { summary: 'Machines, workers and services with liveness', responses: { '200': ok('The worker tree', obj({ machines: arr(obj({ machineId: str, workers: arr(ref('Worker')) })), counts: obj({ busy: int, idle: int, dead: int, stopped: int }) })), ...errors } } },
  '/api/errors': {
    get: {
      summary: 'Failures grouped by fingerprint',
      parameters: [q('window', 'Window in ms (default 86400000)', int), q('service', 'Service type')],
      responses: { '200': ok('Error groups', obj({ windowMs: int, groups: arr(ref('ErrorGroup')), scanned: int, capped: { type: 'boolean' } })), ...errors },
    },
  },
  '/api/stats': {
    get: {
      summary: 'Throughput, latency, error rate, queue wait and cost over a window',
      parameters: [q('window', 'Window in ms (default 3600000)', int)],
      responses: {
        '200': ok('Stats', obj({
          windowMs: int, buckets: arr(obj({ t: int, completed: int, failed: int, p50DurationMs: num, costUsd: num })), throughputPerMin: num, throughputSpanMs: { type: 'integer', description: 'the time throughput is over: the window, or less when the jobs read cover less of it (capped, or the store has data for less than the window)' },
          durationMs: percentiles, errorRate: num, queueWaitMs: percentiles,
          costUsd: obj({ total: num, byModel: { type: 'object', additionalProperties: num }, byService: { type: 'object', additionalProperties: num } }),
          jobsByState: { type: 'object', additionalProperties: int }, scanned: int, capped: { type: 'boolean' },
        })),
        ...errors,
      },
    },
  },
  '/api/stuck': { get: { summary: 'Stuck, orphaned and long-waiting jobs', responses: { '200': ok('Flagged jobs', obj({ stuck: arr(ref('JobView')), orphaned: arr(ref('JobView')), waitingTooLong: arr(ref('JobView')), thresholds: { type: 'object', additionalProperties: int }, checkedAt: int, capped: { type: 'boolean' } })), ...errors } } },
  '/api/dlq': { get: { summary: 'Dead-lettered events, newest first', parameters: [q('limit', '1-500 (default 50)', int), q('cursor', 'Last id of the previous page')], responses: { '200': ok('Dead letters', obj({ entries: arr(ref('DlqEntry')), total: int, nextCursor: str })), ...errors } } },
  '/api/dlq/replay': {
    post: {
      summary: 'Put dead letters back on the event stream',
      requestBody: { required: true, content: json(obj({ ids: arr(str), all: { type: 'boolean' } })) },
      responses: { '200': ok('How many were replayed', obj({ replayed: int }, ['replayed'])), ...errors },
    },
  },
  '/api/stream': {
    get: {
      summary: 'Server-sent events of status changes; resumes from Last-Event-ID (API token, or a job token with job=<its id>)',
      parameters: [
        q('state', 'Comma-separated job states'), q('service', 'Service type'), q('job', 'One job id'), q('types', 'job,worker'),
        q('lastEventId', 'Resume after this feed id (or the Last-Event-ID header)'), q('access_token', 'Token, for EventSource'),
        { name: 'Last-Event-ID', in: 'header', required: false, schema: str },
      ],
      responses: { '200': { description: 'event: job|worker, id: feed id, data: FeedEntry JSON; ": keep-alive" comments', content: { 'text/event-stream': { schema: ref('FeedEntry') } } }, ...errors },
    },
  },
  '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: str } } } } } },
  '/healthz': { get: { summary: 'Alive', security: [], responses: { '200': ok('Alive', obj({ ok: { type: 'boolean' } })) } } },
  '/readyz': { get: { summary: 'Ready: Redis answers', security: [], responses: { '200': ok('Ready', obj({ ok: { type: 'boolean' }, redis: str })), '503': ok('Redis unreachable', obj({ ok: { type: 'boolean' }, redis: str, error: str })) } } },
  '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': ok('OpenAPI 3.1', { type: 'object' }) } } },
  '/': { get: { summary: 'The dashboard (static files)', security: [], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: str } } } } } },
};

const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

/** The OpenAPI 3.1 document of the API. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Jobscope API', version: '1.0.0', description: 'Live status of AI jobs and workers: REST, SSE, metrics.' },
    security: [{ bearer: [] }, { accessToken: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'JOBSCOPE_API_TOKEN, or a job token on the routes that accept one' },
        accessToken: { type: 'apiKey', in: 'query', name: 'access_token' },
      },
      responses: {
        BadParameter: errorResponse('A parameter is invalid; the message names it'),
        Unauthorized: errorResponse('Missing, invalid or expired token'),
        Forbidden: errorResponse('A job token used outside its job'),
        NotFound: errorResponse('No such job'),
      },
    },
  };
}
