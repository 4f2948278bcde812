import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Per-job read-only tokens: `<base64url(jobId)>.<exp>.<base64url(sig)>`, where `exp` is Unix
 * seconds and `sig` = HMAC-SHA256(secret, `<jobId>.<exp>`). An application mints one for a job
 * and hands it to its own user, whose browser may then watch that one job and nothing else.
 */

/** Longest lifetime a job token may be given, in seconds (30 days). */
export const MAX_JOB_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** A minted token and when it stops working. */
export interface MintedJobToken {
  token: string;
  /** Unix ms. */
  expiresAt: number;
}

/** Outcome of checking a job token. */
export type JobTokenCheck =
  | { ok: true; jobId: string; expiresAt: number }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

function sign(secret: string, jobId: string, exp: number): Buffer {
  return createHmac('sha256', secret).update(`${jobId}.${exp}`).digest();
}

/** Mints a token for `jobId` valid `ttlSeconds` from `nowMs`. */
export function mintJobToken(secret: string, jobId: string, ttlSeconds: number, nowMs = Date.now()): MintedJobToken {
  const exp = Math.floor(nowMs / 1000) + ttlSeconds;
  const token = `${Buffer.from(jobId).toString('base64url')}.${exp}.${sign(secret, jobId, exp).toString('base64url')}`;
  return { token, expiresAt: exp * 1000 };
}

/** True when `token` has the shape of a job token (so it is not compared as an API token). */
export function looksLikeJobToken(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.\d{1,12}\.[A-Za-z0-9_-]{43}$/.test(token);
}

/** Verifies a job token's signature and expiry. */
export function verifyJobToken(secret: string, token: string, nowMs = Date.now()): JobTokenCheck {
  if (!looksLikeJobToken(token)) return { ok: false, reason: 'malformed' };
  const [idPart, expPart, sigPart] = token.split('.') as [string, string, string];
  const jobId = Buffer.from(idPart, 'base64url').toString('utf8');
  const exp = Number(expPart);
  const expected = sign(secret, jobId, exp);
  const given = Buffer.from(sigPart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  if (exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, jobId, expiresAt: exp * 1000 };
}

/** The job-token secret derived from the API token, used when none is configured. */
export function deriveJobTokenSecret(apiToken: string): string {
  return createHmac('sha256', apiToken).update('jobscope-job-token-v1').digest('base64url');
}
