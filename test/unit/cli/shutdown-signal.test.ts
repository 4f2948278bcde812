import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ECHO_MS, waitForShutdownSignal, type ShutdownSignal } from '../../../src/cli/shutdown-signal.js';

let current: ShutdownSignal | undefined;
afterEach(() => current?.dispose());

function setup(command = 'start') {
  let t = 1_000_000;
  const exits: number[] = [];
  const stderr = new PassThrough();
  const said: string[] = [];
  stderr.on('data', (d: Buffer) => said.push(d.toString()));
  current = waitForShutdownSignal({ command, stderr, exit: (code) => exits.push(code), now: () => t });
  return { s: current, exits, said, advance: (ms: number) => (t += ms) };
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

  it('exits at once, saying what it skips, when the signal comes again later', () => {
    const { exits, said, advance } = setup('worker');
    process.emit('SIGINT', 'SIGINT');
    advance(ECHO_MS + 500);
    process.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([130]);
    expect(said.join('')).toMatch(
      /^jobscope worker: SIGINT again: exiting now without finishing the shutdown \(running jobs are not handed back/,
    );
  });

  it('exits with 143 on a later SIGTERM', async () => {
    const { s, exits, advance } = setup();
    process.emit('SIGTERM', 'SIGTERM');
    await expect(s.received).resolves.toBe('SIGTERM');
    advance(ECHO_MS);
    process.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([143]);
  });

  it('lets go of its listeners on dispose', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const { s } = setup();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([
      before[0]! + 1,
      before[1]! + 1,
    ]);
    s.dispose();
    s.dispose();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});
