import { ConfigError } from '../src/errors.js';
import { createComfyUiConnector, type ComfyUiConnectorOptions } from './comfyui.js';
import type { Connector } from './connector.js';
import { createOpenAiCompatibleConnector, type OpenAiCompatibleConnectorOptions } from './openai-compatible.js';
import { createSimulatedConnector, type SimulatedConnectorOptions } from './simulated.js';

/** The connectors `jobscope worker --connector <name>` knows. */
export const CONNECTOR_NAMES = ['simulated', 'openai-compatible', 'comfyui'] as const;
export type ConnectorName = (typeof CONNECTOR_NAMES)[number];

/** Settings of every connector; only the chosen one's are read. */
export interface ConnectorRegistryOptions {
  simulated?: SimulatedConnectorOptions;
  /** `baseUrl` comes from `OPENAI_BASE_URL`; required for `openai-compatible`. */
  openai?: Partial<OpenAiCompatibleConnectorOptions>;
  /** `baseUrl` comes from `COMFYUI_URL`; required for `comfyui`. */
  comfyui?: Partial<ComfyUiConnectorOptions>;
}

/** True for a known connector name. */
export function isConnectorName(name: string): name is ConnectorName {
  return (CONNECTOR_NAMES as readonly string[]).includes(name);
}

/** Throws a ConfigError naming `setting` (where the name came from) unless `name` is a known connector. */
export function assertConnectorName(name: string, setting = '--connector'): asserts name is ConnectorName {
  if (!isConnectorName(name)) throw new ConfigError(setting, `must be one of ${CONNECTOR_NAMES.join(', ')} (got "${name.slice(0, 64)}")`, 'required');
}

/** Creates the connector registered as `name`; a missing setting fails naming its variable. */
export function createConnector(name: string, options: ConnectorRegistryOptions = {}): Connector {
  assertConnectorName(name);
  switch (name) {
    case 'simulated':
      return createSimulatedConnector(options.simulated);
    case 'openai-compatible': {
      const o = options.openai ?? {};
      if (!o.baseUrl) throw new ConfigError('OPENAI_BASE_URL', 'is required for --connector openai-compatible (e.g. https://api.openai.com/v1)', 'missing');
      return createOpenAiCompatibleConnector({ ...o, baseUrl: o.baseUrl }) as Connector;
    }
    case 'comfyui': {
      const o = options.comfyui ?? {};
      if (!o.baseUrl) throw new ConfigError('COMFYUI_URL', 'is required for --connector comfyui (e.g. http://127.0.0.1:8188)', 'missing');
      return createComfyUiConnector({ ...o, baseUrl: o.baseUrl }) as Connector;
    }
  }
}
