import { ConfigError } from '../errors.js';
import { boolVar, intVar, listVar, optionalStringVar, readEnv, type Env } from './env-schema.js';

/** The parts a Sentry fingerprint can be built from, in the order given. */
export const FINGERPRINT_PARTS = ['service', 'category', 'type', 'message', 'queue', 'name', 'connector', 'model'] as const;
/** One fingerprint part. */
export type FingerprintPart = (typeof FINGERPRINT_PARTS)[number];

/** Configuration of the Sentry errors sink. */
export interface SentryConfig {
  /** True when `SENTRY_DSN` is set. */
  enabled: boolean;
  /** `SENTRY_DSN`: where events go; unset = sink off. */
  dsn?: string;
  /** `SENTRY_ENVIRONMENT`, else `RAILWAY_ENVIRONMENT_NAME`, else `production`. */
  environment: string;
  /** `SENTRY_RELEASE`, else `RAILWAY_GIT_COMMIT_SHA`; unset = no release. */
  release?: string;
  /** `SENTRY_ONLY_FINAL`: report a failure only when no retry follows. Default false. */
  onlyFinal: boolean;
  /** `SENTRY_FINGERPRINT`: comma-separated parts, default `service,category,message`. */
  fingerprint: FingerprintPart[];
  /** `SENTRY_TIMEOUT_MS`: HTTP timeout per envelope, ms, default 10000. */
  timeoutMs: number;
}

/** Reads {@link SentryConfig} from the environment. */
export function loadSentryConfig(env: Env): SentryConfig {
  const v = readEnv(
    {
      SENTRY_DSN: optionalStringVar().refine((s) => s === undefined || isDsn(s), {
        message: 'must be a DSN like https://<key>@<host>/<project-id>',
      }),
      SENTRY_ENVIRONMENT: optionalStringVar(),
      RAILWAY_ENVIRONMENT_NAME: optionalStringVar(),
      SENTRY_RELEASE: optionalStringVar(),
      RAILWAY_GIT_COMMIT_SHA: optionalStringVar(),
      SENTRY_ONLY_FINAL: boolVar(false),
      SENTRY_FINGERPRINT: listVar(['service', 'category', 'message']),
      SENTRY_TIMEOUT_MS: intVar(10_000, 100, 600_000),
    },
    env,
  );
  const fingerprint = v.SENTRY_FINGERPRINT.map((p) => p.toLowerCase());
  for (const part of fingerprint) {
    if (!(FINGERPRINT_PARTS as readonly string[]).includes(part)) {
      throw new ConfigError('SENTRY_FINGERPRINT', `"${part}" is not one of ${FINGERPRINT_PARTS.join(', ')}`);
    }
  }
  return {
    enabled: v.SENTRY_DSN !== undefined,
    dsn: v.SENTRY_DSN,
    environment: v.SENTRY_ENVIRONMENT ?? v.RAILWAY_ENVIRONMENT_NAME ?? 'production',
    release: v.SENTRY_RELEASE ?? v.RAILWAY_GIT_COMMIT_SHA,
    onlyFinal: v.SENTRY_ONLY_FINAL,
    fingerprint: fingerprint as FingerprintPart[],
    timeoutMs: v.SENTRY_TIMEOUT_MS,
  };
}

/** True for `http(s)://<public key>[:secret]@<host>[:port]/[path/]<project id>`. */
export function isDsn(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.username !== '' && /\/[^/]+$/.test(u.pathname);
  } catch {
    return false;
  }
}
