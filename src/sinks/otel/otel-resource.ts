import { identityPath, type Identity } from '../../events/index.js';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';

/** Options that shape the OTel resource of every span. */
export interface OtelResourceOptions {
  /** Overrides `service.name` (default `jobscope-<serviceType>`). */
  serviceName?: string;
  /** `deployment.environment.name`. */
  environment: string;
}

/** Most distinct identities whose resource is cached; past it the cache starts over. */
const MAX_CACHED = 1024;

/**
 * Resources per producer identity, cached so the OTLP serializer groups the spans of one
 * identity under one resource (it groups by object).
 */
export function createResourceCache(options: OtelResourceOptions): (source: Identity) => Resource {
  const cache = new Map<string, Resource>();
  return (source) => {
    const path = identityPath(source);
    let resource = cache.get(path);
    if (!resource) {
      if (cache.size >= MAX_CACHED) cache.clear();
      resource = resourceFromAttributes({
        'service.name': options.serviceName ?? `jobscope-${source.serviceType}`,
        'service.namespace': 'jobscope',
        'service.instance.id': path,
        'deployment.environment.name': options.environment,
        'host.name': source.machineId,
        ...(source.instance ? { 'jobscope.instance': source.instance } : {}),
      });
      cache.set(path, resource);
    }
    return resource;
  };
}
