import { ValidationError } from '../errors.js';

/**
 * The opaque cursor of a job listing: the position (update time, job id) of the last job a
 * page examined. Lists run newest first; ties on time run in descending byte order of the id,
 * as Redis orders them, so (time, id) is a total order and paging has no gaps or repeats.
 */

/** A position in a listing. */
export interface JobCursor {
  score: number;
  id: string;
}

/** Encodes a position as a URL-safe string. */
export function encodeJobCursor(c: JobCursor): string {
  return Buffer.from(JSON.stringify([c.score, c.id])).toString('base64url');
}

/** Decodes a cursor; throws a {@link ValidationError} when it is not one this API gave out. */
export function decodeJobCursor(text: string): JobCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string') {
      return { score: v[0], id: v[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('cursor', [{ path: 'cursor', message: 'is not a cursor returned by a job listing; start again without it' }]);
}

/** True when (score, id) comes after `cursor` in listing order (newest first). */
export function isAfter(score: number, id: string, cursor: JobCursor | undefined): boolean {
  if (!cursor) return true;
  if (score !== cursor.score) return score < cursor.score;
  return Buffer.compare(Buffer.from(id), Buffer.from(cursor.id)) < 0;
}

/** Listing order: newest first, then descending id bytes. */
export function compareListing(a: JobCursor, b: JobCursor): number {
  if (a.score !== b.score) return b.score - a.score;
  return Buffer.compare(Buffer.from(b.id), Buffer.from(a.id));
}
