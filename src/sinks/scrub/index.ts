export { createScrubber, type Scrubber, type ScrubberOptions, type ScrubberStats } from './scrubber.js';
export { withScrubbing } from './with-scrubbing.js';
export { DEFAULT_SCRUB_FIELDS, DEFAULT_SCRUB_PATTERNS, REDACTED } from './default-rules.js';
