/**
 * The scrubber's defaults: field names whose values are always secret, and value patterns
 * that look like personal data or credentials wherever they appear inside a string.
 */

/** Field names (matched case-insensitively, ignoring `_`, `-` and `.`) whose values are redacted. */
export const DEFAULT_SCRUB_FIELDS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'api_key',
  'apikey',
  'authorization',
  'cookie',
  'set_cookie',
  'private_key',
  'client_secret',
];

/**
 * Value patterns redacted inside strings (messages, error messages, stacks, attribute values).
 * Each must be a global regex; every match is replaced by the redaction marker.
 */
export const DEFAULT_SCRUB_PATTERNS: readonly RegExp[] = [
  // Credentials in URLs: scheme://user:password@host (first, so the e-mail rule keeps the host)
  /(?<=[a-z][a-z0-9+.-]*:\/\/[^\s:/@]{1,256}:)[^\s@/]{1,256}(?=@)/gi,
  // E-mail addresses.
  /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}/g,
  // Bearer / Basic credentials in an Authorization-like string.
  /\b(?:[Bb]earer|[Bb]asic)\s+[A-Za-z0-9\-._~+/]{8,}=*/g,
  // OpenAI / Anthropic style keys: sk-..., sk-proj-..., sk-ant-...
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  // AWS access key ids.
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  // GitHub tokens.
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  // Slack tokens.
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  // JSON Web Tokens (header.payload.signature, base64url).
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g,
];

/** What a redacted value becomes. */
export const REDACTED = '[REDACTED]';
