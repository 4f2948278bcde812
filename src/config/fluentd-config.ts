import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { FluentdSinkOptions } from '../sinks/fluentd/fluentd-sink.js';
import { boolVar, intVar, optionalStringVar, readEnv, stringVar, type Env } from './env-schema.js';

/**
 * Reads the Fluentd sink settings. Returns undefined when `FLUENTD_HOST` is unset (the sink is off).
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `FLUENTD_HOST` | unset (sink off) | forward input host |
 * | `FLUENTD_PORT` | 24224 | forward input port |
 * | `FLUENTD_TLS` | false | connect with TLS |
 * | `FLUENTD_TLS_CA` | system CAs | path of a PEM CA file to trust (read at start) |
 * | `FLUENTD_SHARED_KEY` | unset | shared key of Fluentd's `<security>` section |
 * | `FLUENTD_CLIENT_HOSTNAME` | `os.hostname()` | our name in the handshake (must differ from Fluentd's `self_hostname`) |
 * | `FLUENTD_USERNAME` / `FLUENTD_PASSWORD` | unset | `<user>` authentication (needs the shared key) |
 * | `FLUENTD_TAG_PREFIX` | `jobscope` | tag = `<prefix>.<serviceType>.<eventType>` |
 * | `FLUENTD_ACK_TIMEOUT_MS` | 10000 | wait for a chunk's ack before retrying it |
 * | `FLUENTD_COMPRESS` | false | gzip chunks (CompressedPackedForward) |
 */
export function loadFluentdConfig(env: Env): FluentdSinkOptions | undefined {
  const v = readEnv(
    {
      FLUENTD_HOST: optionalStringVar(),
      FLUENTD_PORT: intVar(24224, 1, 65535),
      FLUENTD_TLS: boolVar(false),
      FLUENTD_TLS_CA: optionalStringVar(),
      FLUENTD_SHARED_KEY: optionalStringVar(),
      FLUENTD_CLIENT_HOSTNAME: optionalStringVar(),
      FLUENTD_USERNAME: optionalStringVar(),
      FLUENTD_PASSWORD: optionalStringVar(),
      FLUENTD_TAG_PREFIX: stringVar('jobscope').refine((s) => /^[A-Za-z0-9_.-]{1,64}$/.test(s), {
        message: 'must be 1-64 characters: letters, digits, ".", "_" or "-"',
      }),
      FLUENTD_ACK_TIMEOUT_MS: intVar(10_000, 100, 600_000),
      FLUENTD_COMPRESS: boolVar(false),
    },
    env,
  );
  if (v.FLUENTD_HOST === undefined) return undefined;
  if (v.FLUENTD_USERNAME !== undefined && v.FLUENTD_SHARED_KEY === undefined) {
    throw new ConfigError('FLUENTD_USERNAME', 'user authentication needs FLUENTD_SHARED_KEY as well');
  }
  return {
    host: v.FLUENTD_HOST,
    port: v.FLUENTD_PORT,
    tagPrefix: v.FLUENTD_TAG_PREFIX,
    ackTimeoutMs: v.FLUENTD_ACK_TIMEOUT_MS,
    eventMode: v.FLUENTD_COMPRESS ? 'CompressedPackedForward' : 'PackedForward',
    ...(v.FLUENTD_TLS || v.FLUENTD_TLS_CA ? { tls: v.FLUENTD_TLS_CA ? { ca: readCa(v.FLUENTD_TLS_CA) } : {} } : {}),
    ...(v.FLUENTD_SHARED_KEY !== undefined ? { sharedKey: v.FLUENTD_SHARED_KEY } : {}),
    ...(v.FLUENTD_CLIENT_HOSTNAME !== undefined ? { clientHostname: v.FLUENTD_CLIENT_HOSTNAME } : {}),
    ...(v.FLUENTD_USERNAME !== undefined ? { username: v.FLUENTD_USERNAME, password: v.FLUENTD_PASSWORD ?? '' } : {}),
  };
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError('FLUENTD_TLS_CA', `cannot read the CA file "${path}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
