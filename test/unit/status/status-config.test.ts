import { describe, expect, it } from 'vitest';
import { loadStatusConfig } from '../../../src/config/status-config.js';
import { ConfigError } from '../../../src/errors.js';

describe('loadStatusConfig', () => {
  it('has defaults: 7 days, 200 timeline entries, 10000 feed entries', () => {
    expect(loadStatusConfig({})).toEqual({ retentionMs: 604_800_000, timelineMax: 200, feedMax: 10_000, pruneIntervalMs: 60_000 });
  });

  it('reads the variables', () => {
    const c = loadStatusConfig({ STATUS_RETENTION_MS: '3600000', STATUS_TIMELINE_MAX: '50', STATUS_FEED_MAX: '500', STATUS_PRUNE_INTERVAL_MS: '0' });
    expect(c).toEqual({ retentionMs: 3_600_000, timelineMax: 50, feedMax: 500, pruneIntervalMs: 0 });
  });

  it('names the bad variable and the rule', () => {
    expect(() => loadStatusConfig({ STATUS_TIMELINE_MAX: '0' })).toThrow(ConfigError);
    expect(() => loadStatusConfig({ STATUS_RETENTION_MS: 'soon' })).toThrow(/STATUS_RETENTION_MS.*whole number/);
  });
});
