import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ECHO_MS, waitForShutdownSignal, type ShutdownSignal } from '../../../src/cli/shutdown-signal.js';

let current: ShutdownSignal | undefined;
afterEach(() => current?.dispose());

function setup(command = 'start') {
  let t = 1_000_000;
  const exits: number[] = [];
  const forced: string[] = [];
  const stderr = new PassThrough();
  const said: string[] = [];
  stderr.on('data', (d: Buffer) => said.push(d.toString()));
  current = waitForShutdownSignal({
    command,
    stderr,
    skipped: 'running jobs stay active until their lock expires',
    onForce: () => forced.push('redis stopped'),
    exit: (code) => exits.push(code),
    now: () => t,
  });
  return { s: current, exits, forced, said, advance: (ms: number) => (t += ms) };
}

describe('waitForShutdownSignal', () => {
  it('starts the drain on the first signal and takes a relayed copy of it as the same request', async () => {
    const { s, exits, said, advance } = setup();
    process.emit('SIGINT', 'SIGINT');
    await expect(s.received).resolves.toBe('SIGINT');
    // npm start: the terminal's Ctrl-C, then npm's and the start script's copies of it.
    advance(5);
    process.emit('SIGINT', 'SIGINT');
    advance(ECHO_MS - 10);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([]);
    expect(said).toEqual([]);
  });

  it('exits at once when the signal comes again later, saying what it skips and running the last steps', () => {
    const { exits, forced, said, advance } = setup('worker');
    process.emit('SIGINT', 'SIGINT');
    advance(ECHO_MS + 500);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
    expect(forced).toEqual(['redis stopped']);
    expect(said.join('')).toBe('jobscope worker: SIGINT again: exiting now, before the shutdown is over: running jobs stay active until their lock expires\n');
  });

  it('exits with 143 on a later SIGTERM', async () => {
    const { s, exits, advance } = setup();
    process.emit('SIGTERM', 'SIGTERM');
    await expect(s.received).resolves.toBe('SIGTERM');
    advance(ECHO_MS);
    process.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([143]);
  });

  it('after the drain, still ignores a relayed copy, and a later signal ends the process quietly', () => {
    const { s, exits, forced, said, advance } = setup();
    process.emit('SIGINT', 'SIGINT');
    s.finished();
    advance(20);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([]);
    advance(ECHO_MS);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
    expect(forced).toEqual([]);
    expect(said).toEqual([]);
  });

  it('lets go of its listeners on dispose', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const { s } = setup();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before[0]! + 1, before[1]! + 1]);
    s.dispose();
    s.dispose();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});
