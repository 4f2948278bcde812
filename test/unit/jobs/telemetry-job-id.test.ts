import { describe, expect, it } from 'vitest';
import { telemetryJobId } from '../../../src/jobs/job-processor.js';

describe('telemetry job ids', () => {
  it("qualifies BullMQ's per-queue numeric ids with the queue, so two queues' job 21 stay apart", () => {
    expect(telemetryJobId('21', 'demo-chat')).toBe('demo-chat:21');
    expect(telemetryJobId('21', 'demo-images')).not.toBe(telemetryJobId('21', 'demo-chat'));
  });
  it('keeps ids the producer chose', () => {
    expect(telemetryJobId('demo-chat-01a2-uuid', 'demo-chat')).toBe('demo-chat-01a2-uuid');
    expect(telemetryJobId('job-12345', 'q')).toBe('job-12345');
  });
});
