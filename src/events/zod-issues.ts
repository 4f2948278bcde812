import type { z } from 'zod';
import type { ValidationIssue } from '../errors.js';

/** Converts zod's issues into Jobscope's `{ path, message }` form, paths dotted (`source.machineId`). */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}
