import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';
import type { Sink } from '../sinks/sink.js';

/**
 * The sinks `jobscope pipeline` can run, by name (`JOBSCOPE_SINKS`). Each sink module
 * registers a factory; the pipeline worker builds the enabled ones from the environment.
 * Only `null` is registered here; the integrator registers status, metrics, fluentd, otel
 * and sentry next to their modules' wiring.
 */

/** What a sink factory gets. */
export interface SinkFactoryDeps {
  /** The environment, for the sink's own `load<Sink>Config(env)`. */
  env: Readonly<Record<string, string | undefined>>;
  redis: Redis;
  prefix: string;
  metricsRegistry: Registry;
  logger: Logger;
}

/** Builds one sink. */
export type SinkFactory = (deps: SinkFactoryDeps) => Sink | Promise<Sink>;

const factories = new Map<string, SinkFactory>();

/** Registers (or replaces) the factory of sink `name`. */
export function registerSinkFactory(name: string, factory: SinkFactory): void {
  factories.set(name, factory);
}

/** The registered sink names, sorted. */
export function registeredSinkNames(): string[] {
  return [...factories.keys()].sort();
}

/**
 * Builds the sinks named in `names`, in order. An unknown name fails with a {@link ConfigError}
 * naming `JOBSCOPE_SINKS` and the names that exist. If one factory throws, the sinks already
 * built are closed.
 */
export async function createSinksFromConfig(names: readonly string[], deps: SinkFactoryDeps): Promise<Sink[]> {
  for (const name of names) {
    if (!factories.has(name)) {
      throw new ConfigError('JOBSCOPE_SINKS', `unknown sink "${name}"; known sinks: ${registeredSinkNames().join(', ') || 'none'}`);
    }
  }
  const built: Sink[] = [];
  try {
    for (const name of names) built.push(await factories.get(name)!(deps));
  } catch (err) {
    await Promise.allSettled(built.map((s) => s.close()));
    throw err;
  }
  return built;
}
