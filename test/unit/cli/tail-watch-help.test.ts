import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/commands.js';
import * as tail from '../../../src/cli/commands/tail.js';
import * as watch from '../../../src/cli/commands/watch.js';

async function help(mod: { run(args: string[], io: CliIo): Promise<number> }): Promise<string> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  expect(await mod.run(['--help'], { stdout: out, stderr: out, env: {} })).toBe(0);
  return text;
}

const jsonLines = (text: string) => text.split('\n').filter((l) => /^\s*--json\b/.test(l));

describe('watch and tail --help', () => {
  it('tail lists --json once, as one JSON object per change', async () => {
    const text = await help(tail);
    expect(jsonLines(text)).toEqual([expect.stringMatching(/--json\s+one JSON object per change/)]);
    expect(text).toContain('--api <url>');
    expect(text).toContain('-h, --help');
  });

  it('watch lists --json once, as the final rows and counts on exit instead of the table', async () => {
    const text = await help(watch);
    expect(jsonLines(text)).toEqual([expect.stringMatching(/--json\s+draw no table; on exit, print the final rows and counts as JSON/)]);
    expect(text).toContain('--token <token>');
  });
});
