import { createNullSink } from '../sinks/null/index.js';
import { registerSinkFactory } from './sink-registry.js';

/** Registers the sinks that ship with the pipeline module itself: `null`. Idempotent. */
export function registerBuiltinSinks(): void {
  registerSinkFactory('null', () => createNullSink());
}
