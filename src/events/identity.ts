import { hostname } from 'node:os';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { zodIssues } from './zod-issues.js';

/**
 * The hierarchical identity of the code that runs a job:
 * machine → worker → service → connector, rendered as a path such as
 * `railway-comfyui-01/worker-001/comfyui/comfyui-local`.
 */

/** Ids: 1–64 characters, starting with a letter or digit, then letters, digits, `.`, `_`, `:`, `-`. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
/** Service types are lower-case: `comfyui`, `openai`, `simulated`. 1–32 characters. */
export const SERVICE_TYPE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,31}$/;

const idRule = 'must be 1-64 characters: letters, digits, ".", "_", ":" or "-", starting with a letter or digit';
const serviceRule = 'must be 1-32 lower-case characters: a-z, 0-9, ".", "_" or "-", starting with a letter or digit';

/** zod schema of an identity; the single definition used by producer and consumer. */
export const identitySchema = z.object({
  machineId: z.string().regex(ID_PATTERN, idRule),
  workerId: z.string().regex(ID_PATTERN, idRule),
  serviceType: z.string().regex(SERVICE_TYPE_PATTERN, serviceRule),
  connectorId: z.string().regex(ID_PATTERN, idRule),
  /** The process instance (host:pid or a Railway replica id); optional, not part of the path. */
  instance: z.string().max(128).optional(),
});

/** Who produced an event. */
export type Identity = z.infer<typeof identitySchema>;

/** Environment variables the identity defaults read, passed in (library code never reads `process.env`). */
export type IdentityEnv = Readonly<Record<string, string | undefined>>;

/** Renders `machine/worker/service/connector`. */
export function identityPath(id: Identity): string {
  return `${id.machineId}/${id.workerId}/${id.serviceType}/${id.connectorId}`;
}

/** Validates an identity, throwing a {@link ValidationError} that names each bad field. */
export function validateIdentity(value: unknown): Identity {
  const r = identitySchema.safeParse(value);
  if (!r.success) throw new ValidationError('identity', zodIssues(r.error));
  return r.data;
}

/** Turns an arbitrary string (a hostname, a Railway service name) into a valid id. */
export function sanitizeId(raw: string, lowerCase = false): string {
  let s = raw.trim().replace(/[^A-Za-z0-9._:-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  if (lowerCase) s = s.toLowerCase().replace(/:/g, '-');
  s = s.slice(0, lowerCase ? 32 : 64);
  return s.length > 0 ? s : 'unknown';
}

function firstSet(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => typeof v === 'string' && v.trim().length > 0)?.trim();
}

/**
 * Fills in an identity from explicit options, then environment variables, then Railway's
 * variables, then the host. Explicit values are validated as given (a bad one is an error);
 * values derived from Railway or the hostname are sanitized first.
 *
 * Order per field:
 * - machineId: option, `MACHINE_ID`, `railway-<RAILWAY_SERVICE_NAME>-<RAILWAY_REPLICA_ID first 8>`, hostname
 * - workerId: option, `WORKER_ID`, `worker-<pid>`
 * - serviceType: option, `SERVICE_TYPE`, `fallbackServiceType` (default `unknown`)
 * - connectorId: option, `CONNECTOR_ID`, `<serviceType>`
 * - instance: option, `RAILWAY_REPLICA_ID`, `<hostname>:<pid>`
 */
export function resolveIdentity(
  options: Partial<Identity>,
  env: IdentityEnv = {},
  host: { hostname: string; pid: number } = { hostname: hostname(), pid: process.pid },
  fallbackServiceType = 'unknown',
): Identity {
  const replica = firstSet(env.RAILWAY_REPLICA_ID);
  const railwayService = firstSet(env.RAILWAY_SERVICE_NAME);
  const railwayMachine =
    railwayService !== undefined
      ? sanitizeId(`railway-${railwayService}${replica ? `-${replica.slice(0, 8)}` : ''}`)
      : undefined;
  const explicitMachine = firstSet(options.machineId, env.MACHINE_ID);
  const explicitWorker = firstSet(options.workerId, env.WORKER_ID);
  const explicitService = firstSet(options.serviceType, env.SERVICE_TYPE);
  const serviceType = explicitService ?? sanitizeId(fallbackServiceType, true);
  const candidate = {
    machineId: explicitMachine ?? railwayMachine ?? sanitizeId(host.hostname),
    workerId: explicitWorker ?? `worker-${host.pid}`,
    serviceType,
    connectorId: firstSet(options.connectorId, env.CONNECTOR_ID) ?? sanitizeId(serviceType),
    instance: firstSet(options.instance, replica) ?? `${host.hostname}:${host.pid}`.slice(0, 128),
  };
  return validateIdentity(candidate);
}
