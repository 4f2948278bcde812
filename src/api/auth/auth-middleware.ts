import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ConfigError } from '../../errors.js';
import { ApiError } from '../api-error.js';
import { deriveJobTokenSecret, looksLikeJobToken, verifyJobToken } from './job-token.js';

/** How callers authenticate. */
export interface AuthOptions {
  /** The API token (`JOBSCOPE_API_TOKEN`): full read access, and job-token minting. */
  token?: string;
  /** Serve without a token (`JOBSCOPE_API_ALLOW_ANONYMOUS`): an explicit local choice. Default false. */
  allowAnonymous?: boolean;
  /** Secret for per-job tokens. Default: derived from `token`; random per process when there is none. */
  jobTokenSecret?: string;
  /** Serve `/metrics` without a token (for a Prometheus without credentials). Default false. */
  publicMetrics?: boolean;
}

/** What the auth middleware found: the full API, or one job. */
export type Principal = { kind: 'api' } | { kind: 'job'; jobId: string };

/** Hono context variables set by the middleware. */
export interface AuthVariables {
  principal: Principal;
}

/** The only routes a job token may call. */
const JOB_TOKEN_PATHS = /^\/api\/(jobs\/[^/]+|stream)$/;

/** Paths served to anyone: probes, the API description and the dashboard's static files. */
function isPublicPath(path: string, publicMetrics: boolean): boolean {
  if (path === '/healthz' || path === '/readyz' || path === '/openapi.json') return true;
  if (path === '/metrics') return publicMetrics;
  return !path.startsWith('/api/') && path !== '/api' && path !== '/metrics';
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so lengths match and timingSafeEqual reveals nothing about the length.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The token of a request: `Authorization: Bearer …`, else `?access_token=`. */
export function requestToken(authorization: string | undefined, accessToken: string | undefined): string | undefined {
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) throw new ApiError(401, 'unauthorized', 'Authorization header must be "Bearer <token>"');
    return m[1];
  }
  return accessToken === undefined || accessToken === '' ? undefined : accessToken;
}

/** The secret job tokens are signed with, resolved once. */
export function resolveJobTokenSecret(options: AuthOptions): string {
  if (options.jobTokenSecret) return options.jobTokenSecret;
  if (options.token) return deriveJobTokenSecret(options.token);
  return randomBytes(32).toString('base64url');
}

/**
 * Checks the caller's token and sets `principal`. Job tokens pass only on the routes that
 * re-check them against the job (`requireJobAccess`); everything else needs the API token.
 */
export function createAuthMiddleware(options: AuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  if (!options.token && !options.allowAnonymous) {
    throw new ConfigError('JOBSCOPE_API_TOKEN', 'no API token is set; set JOBSCOPE_API_TOKEN, or set JOBSCOPE_API_ALLOW_ANONYMOUS=true to serve without one (local use only)');
  }
  const secret = resolveJobTokenSecret(options);
  const publicMetrics = options.publicMetrics ?? false;
  return async (c, next) => {
    if (isPublicPath(c.req.path, publicMetrics)) {
      c.set('principal', { kind: 'api' });
      return next();
    }
    const token = requestToken(c.req.header('authorization'), c.req.query('access_token'));
    if (token === undefined) {
      if (options.allowAnonymous) {
        c.set('principal', { kind: 'api' });
        return next();
      }
      throw new ApiError(401, 'unauthorized', 'Missing token: send "Authorization: Bearer <JOBSCOPE_API_TOKEN>" or ?access_token=');
    }
    if (options.token && sameSecret(token, options.token)) {
      c.set('principal', { kind: 'api' });
      return next();
    }
    if (looksLikeJobToken(token)) {
      const check = verifyJobToken(secret, token);
      if (check.ok) {
        // Deny by default: a job token opens only the two routes that re-check its job.
        if (c.req.method !== 'GET' || !JOB_TOKEN_PATHS.test(c.req.path)) {
          throw new ApiError(403, 'forbidden', 'A job token only reads its own job (GET /api/jobs/:id, GET /api/stream?job=)');
        }
        c.set('principal', { kind: 'job', jobId: check.jobId });
        return next();
      }
      if (check.reason === 'expired') throw new ApiError(401, 'token_expired', 'The job token has expired; ask the application for a new one');
    }
    throw new ApiError(401, 'unauthorized', 'Invalid token');
  };
}

/** Throws 403 unless the principal may read `jobId` (the API token reads every job). */
export function requireJobAccess(principal: Principal, jobId: string | undefined): void {
  if (principal.kind === 'api') return;
  if (jobId === undefined || principal.jobId !== jobId) {
    throw new ApiError(403, 'forbidden', 'This job token only gives access to its own job');
  }
}

/** Throws 403 unless the principal holds the API token. */
export function requireApiToken(principal: Principal): void {
  if (principal.kind !== 'api') throw new ApiError(403, 'forbidden', 'This route needs the API token; a job token only reads its own job');
}
