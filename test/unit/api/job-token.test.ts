import { describe, expect, it } from 'vitest';
import { deriveJobTokenSecret, looksLikeJobToken, mintJobToken, verifyJobToken } from '../../../src/api/auth/job-token.js';

const secret = 'secret-0123456789abcdef';

describe('job tokens', () => {
  it('round-trips a job id, dots and unicode included, until it expires', () => {
    const now = 1_700_000_000_000;
    const { token, expiresAt } = mintJobToken(secret, 'job.with.dots/ü', 60, now);
    expect(expiresAt).toBe(now + 60_000);
    expect(looksLikeJobToken(token)).toBe(true);
    expect(verifyJobToken(secret, token, now + 59_000)).toEqual({ ok: true, jobId: 'job.with.dots/ü', expiresAt });
    expect(verifyJobToken(secret, token, now + 60_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a token signed with another secret, or edited', () => {
    const { token } = mintJobToken(secret, 'job-1', 60);
    expect(verifyJobToken('other-secret-0123456789', token)).toEqual({ ok: false, reason: 'bad_signature' });
    const [, exp, sig] = token.split('.');
    const otherJob = `${Buffer.from('job-2').toString('base64url')}.${exp}.${sig}`;
    expect(verifyJobToken(secret, otherJob)).toEqual({ ok: false, reason: 'bad_signature' });
    const longer = token.replace(`.${exp}.`, `.${Number(exp) + 3600}.`);
    expect(verifyJobToken(secret, longer)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyJobToken(secret, 'not-a-token')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('derives a stable secret from the API token', () => {
    expect(deriveJobTokenSecret('a-token')).toBe(deriveJobTokenSecret('a-token'));
    expect(deriveJobTokenSecret('a-token')).not.toBe(deriveJobTokenSecret('b-token'));
  });
});
