import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PendingEntry } from '../../../src/logger/event-buffer.js';
import { createSpool } from '../../../src/logger/spool.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jobscope-spool-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function entry(i: number): PendingEntry {
  const producer = 'p-1';
  const json = JSON.stringify({ i, text: 'é\n"quoted"' });
  return { stream: '{p}:events', json, bytes: json.length, producer, seq: i };
}

describe('spool', () => {
  it('reads back what it appended, in order, across a restart, and truncates when done', async () => {
    const dir = tempDir();
    const a = createSpool({ dir, name: 's', maxBytes: 1 << 20 });
    await a.open();
    expect(a.append([0, 1, 2, 3, 4].map(entry))).toBe(5);
    const first = await a.read(2);
    expect(first.entries.map((e) => JSON.parse(e.json).i)).toEqual([0, 1]);
    a.commit(first.ends.at(-1)!, 2);
    a.close();

    const b = createSpool({ dir, name: 's', maxBytes: 1 << 20 });
    await b.open();
    expect(b.pending).toBe(3);
    const rest = await b.read(100);
    expect(rest.entries).toEqual([2, 3, 4].map(entry));
    b.commit(rest.ends.at(-1)!, 3);
    expect(b.pending).toBe(0);
    expect(b.sizeBytes).toBe(0);
    b.close();
  });

  it('takes only what fits its byte bound', async () => {
    const s = createSpool({ dir: tempDir(), name: 's', maxBytes: 200 });
    await s.open();
    const n = s.append(Array.from({ length: 10 }, (_, i) => entry(i)));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(10);
    expect(s.sizeBytes).toBeLessThanOrEqual(200);
    s.close();
  });

  it('skips a torn last line', async () => {
    const dir = tempDir();
    const a = createSpool({ dir, name: 's', maxBytes: 1 << 20 });
    a.append([entry(0)]);
    a.close();
    appendFileSync(join(dir, 's.spool'), '{"k":"{p}:events","e":{"i":1');
    const b = createSpool({ dir, name: 's', maxBytes: 1 << 20 });
    await b.open();
    const r = await b.read(10);
    expect(r.entries).toEqual([entry(0)]);
    expect(r.corrupt).toBe(1);
    b.close();
  });

  it('skips a line longer than its read chunk and still reads the lines after it', async () => {
    const dir = tempDir();
    const a = createSpool({ dir, name: 's', maxBytes: 8 << 20 });
    a.append([entry(0)]);
    a.close();
    // A line of 1.5 MiB (more than one read), then two good ones.
    appendFileSync(join(dir, 's.spool'), `{"k":"{p}:events","e":"${'x'.repeat(1.5 * 1024 * 1024)}"}\n`);
    const b = createSpool({ dir, name: 's', maxBytes: 8 << 20 });
    b.append([entry(1), entry(2)]);
    b.close();
    const c = createSpool({ dir, name: 's', maxBytes: 8 << 20 });
    await c.open();
    const r = await c.read(10);
    expect(r.entries).toEqual([0, 1, 2].map(entry));
    expect(r.corrupt).toBe(1);
    c.commit(r.ends.at(-1)!, 3);
    expect(c.pending).toBe(0);
    c.close();
  });

  it('a batch of nothing but unreadable lines moves past all of them: they are not read or counted again', async () => {
    const dir = tempDir();
    appendFileSync(join(dir, 's.spool'), `{"k":"{p}:events","e":"${'x'.repeat(1.5 * 1024 * 1024)}"}\ngarbage\n`);
    const s = createSpool({ dir, name: 's', maxBytes: 8 << 20 });
    await s.open();
    const r = await s.read(10);
    expect(r.entries).toEqual([]);
    expect(r.corrupt).toBe(2);
    s.commit(r.ends.at(-1)!, s.pending);
    const again = await s.read(10);
    expect([again.entries.length, again.corrupt]).toEqual([0, 0]);
    s.close();
  });

  it('puts older events in front with prepend', async () => {
    const s = createSpool({ dir: tempDir(), name: 's', maxBytes: 1 << 20 });
    await s.open();
    s.append([entry(2), entry(3)]);
    s.prepend([entry(0), entry(1)]);
    expect(s.pending).toBe(4);
    const r = await s.read(10);
    expect(r.entries.map((e) => JSON.parse(e.json).i)).toEqual([0, 1, 2, 3]);
    s.close();
  });
});
