import { describe, expect, it } from 'vitest';
import { identityPath, resolveIdentity, sanitizeId, validateIdentity } from '../../../src/events/index.js';
import { ValidationError } from '../../../src/errors.js';

const host = { hostname: 'gpu-box.local', pid: 4242 };

describe('identity', () => {
  it('renders the hierarchy as a path', () => {
    const id = validateIdentity({ machineId: 'railway-comfyui-01', workerId: 'worker-001', serviceType: 'comfyui', connectorId: 'comfyui-local' });
    expect(identityPath(id)).toBe('railway-comfyui-01/worker-001/comfyui/comfyui-local');
  });

  it('names the bad field in the error', () => {
    expect(() => validateIdentity({ machineId: 'ok', workerId: 'has space', serviceType: 'comfyui', connectorId: 'c' })).toThrow(
      /Invalid identity: workerId: must be 1-64 characters/,
    );
    expect(() => validateIdentity({ machineId: 'ok', workerId: 'w', serviceType: 'ComfyUI', connectorId: 'c' })).toThrow(ValidationError);
    expect(() => validateIdentity({ machineId: 'x'.repeat(65), workerId: 'w', serviceType: 's', connectorId: 'c' })).toThrow(/machineId/);
  });

  it('prefers explicit options over the environment', () => {
    const id = resolveIdentity({ machineId: 'm1', serviceType: 'openai' }, { MACHINE_ID: 'env-m', WORKER_ID: 'env-w' }, host);
    expect(id).toMatchObject({ machineId: 'm1', workerId: 'env-w', serviceType: 'openai', connectorId: 'openai' });
  });

  it('reads MACHINE_ID, WORKER_ID, SERVICE_TYPE, CONNECTOR_ID', () => {
    const env = { MACHINE_ID: 'm', WORKER_ID: 'w', SERVICE_TYPE: 'comfyui', CONNECTOR_ID: 'comfyui-local' };
    expect(resolveIdentity({}, env, host)).toMatchObject({ machineId: 'm', workerId: 'w', serviceType: 'comfyui', connectorId: 'comfyui-local' });
  });

  it("falls back to Railway's variables, then the hostname", () => {
    const railway = { RAILWAY_SERVICE_NAME: 'ComfyUI Workers', RAILWAY_REPLICA_ID: '9f8e7d6c-1234-5678' };
    const id = resolveIdentity({ serviceType: 'comfyui' }, railway, host);
    expect(id.machineId).toBe('railway-ComfyUI-Workers-9f8e7d6c');
    expect(id.instance).toBe('9f8e7d6c-1234-5678');
    const bare = resolveIdentity({}, {}, host);
    expect(bare).toMatchObject({ machineId: 'gpu-box.local', workerId: 'worker-4242', serviceType: 'unknown', instance: 'gpu-box.local:4242' });
  });

  it('rejects an explicit bad value from the environment, naming it', () => {
    expect(() => resolveIdentity({}, { MACHINE_ID: 'bad/id' }, host)).toThrow(/machineId/);
  });

  it('sanitizes derived ids', () => {
    expect(sanitizeId('  --weird host name!!  ')).toBe('weird-host-name-');
    expect(sanitizeId('Comfy:UI', true)).toBe('comfy-ui');
    expect(sanitizeId('')).toBe('unknown');
  });
});
