import { describe, expect, it } from 'vitest';
import { bullJobId, telemetryJobId } from '../../../src/jobs/job-processor.js';

describe('telemetry job ids', () => {
  it("qualifies BullMQ's per-queue numeric ids with the queue, so two queues' job 21 stay apart", () => {
    expect(telemetryJobId('21', 'demo-chat')).toBe('demo-chat:21');
    expect(telemetryJobId('21', 'demo-images')).not.toBe(telemetryJobId('21', 'demo-chat'));
  });
  it("qualifies BullMQ's repeat ids too (they hash the job's name and schedule, not its queue)", () => {
    expect(telemetryJobId('repeat:5c1f:1796220000000', 'nightly')).toBe('nightly:repeat:5c1f:1796220000000');
  });
  it("finds BullMQ's id from either id, and leaves ids that only look qualified alone", () => {
    expect(bullJobId('demo-chat:21', 'demo-chat')).toBe('21');
    expect(bullJobId('21', 'demo-chat')).toBe('21');
    expect(bullJobId('nightly:repeat:5c1f:17962', 'nightly')).toBe('repeat:5c1f:17962');
    for (const id of ['demo-chat-01a2-uuid', 'demo-chat:abc', 'other:21']) expect(bullJobId(id, 'demo-chat')).toBe(id);
  });
  it('keeps ids the producer chose', () => {
    expect(telemetryJobId('demo-chat-01a2-uuid', 'demo-chat')).toBe('demo-chat-01a2-uuid');
    expect(telemetryJobId('job-12345', 'q')).toBe('job-12345');
  });
});
