export * from './schema.js';
export * from './codec.js';
export * from './identity.js';
export * from './event-id.js';
export * from './trace-context.js';
export * from './stream-keys.js';
export * from './error-classify.js';
export * from './genai.js';
