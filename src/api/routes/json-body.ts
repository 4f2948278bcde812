import { ApiError } from '../api-error.js';

/** Largest JSON body accepted, in bytes. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Reads a JSON object body; a 400 names what is wrong with it. */
export async function readJsonBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiError(400, 'bad_body', `Body is over ${MAX_BODY_BYTES} bytes`);
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'bad_body', 'Body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'bad_body', 'Body must be a JSON object');
  return value as Record<string, unknown>;
}
