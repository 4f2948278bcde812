import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { wholeJson, type PendingEntry } from './event-buffer.js';

/**
 * The on-disk overflow of the publisher: a JSON-lines file, one
 * `{"k":<stream>,"p":<producer>,"q":<seq>,"e":<event>}` per line, in event order, bounded in bytes. Lines are appended synchronously (to the page
 * cache, in chunks, never waiting for Redis) so a line is never half-written by us; they are
 * read back asynchronously from a read offset, which is saved beside the file after every
 * confirmed batch so a restart replays only what Redis has not confirmed. When everything is
 * replayed the file is truncated. A torn last line (a crash mid-write) is skipped and counted.
 */

/** Options of {@link createSpool}. */
export interface SpoolOptions {
  /** Directory of the spool; created on first spill. */
  dir: string;
  /** File name stem: `<dir>/<name>.spool` (+ `.offset`). Stable across restarts. */
  name: string;
  /** Largest file size, in bytes. */
  maxBytes: number;
}

/** A batch read back from the spool. */
export interface SpoolBatch {
  entries: PendingEntry[];
  /** File offset after each entry, for {@link Spool.commit}. */
  ends: number[];
  /** Lines that could not be parsed (skipped). */
  corrupt: number;
}

/** The spool file. */
export interface Spool {
  readonly path: string;
  /** Events in the file not yet confirmed by Redis. */
  readonly pending: number;
  /** Size of the file, in bytes. */
  readonly sizeBytes: number;
  /** Finds what an earlier process left behind. Call once before anything else. */
  open(): Promise<void>;
  /** Appends the longest prefix of `entries` that fits the bound; returns how many were written. */
  append(entries: readonly PendingEntry[]): number;
  /** Reads up to `max` events from the read offset. */
  read(max: number): Promise<SpoolBatch>;
  /** Marks events up to file offset `end` as confirmed (`count` of them). */
  commit(end: number, count: number): void;
  /** Rewrites the file as `head` followed by the unconfirmed rest (restores order at close). */
  prepend(entries: readonly PendingEntry[]): number;
  close(): void;
}

const LINE_HEAD = '{"k":';
const E_MARK = ',"e":';
const READ_CHUNK = 1024 * 1024;

function line(e: PendingEntry): string {
  return `${LINE_HEAD}${JSON.stringify(e.stream)},"p":${JSON.stringify(e.producer)},"q":${e.seq}${E_MARK}${wholeJson(e)}}\n`;
}

/** Parses one spool line (without its newline); undefined when torn or foreign. */
export function parseSpoolLine(text: string): PendingEntry | undefined {
  if (!text.startsWith(LINE_HEAD) || !text.endsWith('}')) return undefined;
  const mark = text.indexOf(E_MARK);
  if (mark < 0) return undefined;
  try {
    const head = JSON.parse(`${text.slice(0, mark)}}`) as { k?: unknown; p?: unknown; q?: unknown };
    const json = text.slice(mark + E_MARK.length, -1);
    const { k: stream, p: producer, q: seq } = head;
    if (
      typeof stream !== 'string' ||
      typeof producer !== 'string' ||
      typeof seq !== 'number' ||
      json.length === 0
    )
      return undefined;
    return { stream, json, shared: undefined, attempt: undefined, bytes: json.length, producer, seq };
  } catch {
    return undefined;
  }
}

/** Creates the spool of `<dir>/<name>.spool`. Nothing touches the disk before `open`/`append`. */
export function createSpool(options: SpoolOptions): Spool {
  const path = join(options.dir, `${options.name}.spool`);
  const offsetPath = `${path}.offset`;
  let fd: number | undefined;
  let size = 0;
  let readOffset = 0;
  let pending = 0;

  function ensureOpen(): number {
    if (fd === undefined) {
      mkdirSync(options.dir, { recursive: true });
      fd = openSync(path, 'a');
    }
    return fd;
  }

  function saveOffset(): void {
    if (readOffset >= size) {
      if (fd !== undefined) ftruncateSync(fd, 0);
      size = 0;
      readOffset = 0;
      pending = 0;
      rmSync(offsetPath, { force: true });
    } else {
      writeFileSync(offsetPath, String(readOffset));
    }
  }

  return {
    path,
    get pending() {
      return pending;
    },
    get sizeBytes() {
      return size;
    },
    async open() {
      if (!existsSync(path)) return;
      // The file's size and the read offset are taken synchronously, before any await, so an
      // append() that runs while the lines are counted is added on top, not overwritten.
      const fileSize = statSync(path).size;
      const saved = existsSync(offsetPath) ? Number(readFileSync(offsetPath, 'utf8').trim()) : 0;
      readOffset = Number.isInteger(saved) && saved >= 0 && saved <= fileSize ? saved : 0;
      const [size0, pending0] = [size, pending];
      const fh = await open(path, 'r');
      let counted: number;
      try {
        counted = await countLines(fh, readOffset, fileSize);
      } finally {
        await fh.close();
      }
      size = fileSize + (size - size0);
      pending = counted + (pending - pending0);
      ensureOpen();
    },
    append(entries) {
      let text = '';
      let written = 0;
      let bytes = 0;
      for (const e of entries) {
        const l = line(e);
        const b = Buffer.byteLength(l);
        if (size + bytes + b > options.maxBytes) break;
        text += l;
        bytes += b;
        written++;
      }
      if (written === 0) return 0;
      writeSync(ensureOpen(), text);
      size += bytes;
      pending += written;
      return written;
    },
    async read(max) {
      return readBatch(path, readOffset, size, max);
    },
    commit(end, count) {
      readOffset = Math.min(end, size);
      pending = Math.max(0, pending - count);
      saveOffset();
    },
    prepend(entries) {
      const rest = size > readOffset ? readFileSync(path).subarray(readOffset) : Buffer.alloc(0);
      let text = '';
      let bytes = 0;
      let written = 0;
      for (const e of entries) {
        const l = line(e);
        const b = Buffer.byteLength(l);
        if (bytes + b + rest.length > options.maxBytes) break;
        text += l;
        bytes += b;
        written++;
      }
      mkdirSync(options.dir, { recursive: true });
      writeFileSync(`${path}.tmp`, Buffer.concat([Buffer.from(text), rest]));
      if (fd !== undefined) closeSync(fd);
      renameSync(`${path}.tmp`, path);
      rmSync(offsetPath, { force: true });
      fd = openSync(path, 'a');
      size = bytes + rest.length;
      readOffset = 0;
      pending += written;
      return written;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

async function countLines(fh: FileHandle, from: number, to: number): Promise<number> {
  const buf = Buffer.alloc(READ_CHUNK);
  let count = 0;
  for (let pos = from; pos < to;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(READ_CHUNK, to - pos), pos);
    if (bytesRead === 0) break;
    for (let i = 0; i < bytesRead; i++) if (buf[i] === 0x0a) count++;
    pos += bytesRead;
  }
  return count;
}

/** The offset just past the next newline at or after `from`, or `size` when there is none. */
async function nextLineStart(fh: FileHandle, from: number, size: number): Promise<number> {
  const buf = Buffer.alloc(64 * 1024);
  for (let pos = from; pos < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    const i = buf.indexOf(0x0a);
    if (i >= 0 && i < bytesRead) return pos + i + 1;
    pos += bytesRead;
  }
  return size;
}

async function readBatch(path: string, from: number, size: number, max: number): Promise<SpoolBatch> {
  const batch: SpoolBatch = { entries: [], ends: [], corrupt: 0 };
  if (from >= size) return batch;
  const fh = await open(path, 'r');
  /** The offset after the last line read (an entry, an unreadable line or a skipped one). */
  let consumed = -1;
  try {
    let pos = from;
    while (batch.entries.length < max && pos < size) {
      const buf = Buffer.alloc(Math.min(READ_CHUNK, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      const start = pos;
      let lineStart = 0;
      for (let i = 0; i < bytesRead && batch.entries.length < max; i++) {
        if (buf[i] !== 0x0a) continue;
        const entry = parseSpoolLine(buf.toString('utf8', lineStart, i));
        if (entry) {
          batch.entries.push(entry);
          batch.ends.push(start + i + 1);
        } else batch.corrupt++;
        lineStart = i + 1;
        consumed = start + lineStart;
      }
      if (lineStart === 0) {
        // No newline in a whole chunk: a line over READ_CHUNK (not one the logger writes: its
        // events are at most MAX_ENTRY_BYTES), skipped to its end, or a torn tail, skipped to the
        // end of the file. Either way the lines after it are still read.
        batch.corrupt++;
        const next = await nextLineStart(fh, start + bytesRead, size);
        if (next >= size) {
          batch.ends.push(size);
          break;
        }
        consumed = next;
        pos = next;
        continue;
      }
      pos = start + lineStart;
    }
    // Lines passed over (skipped, unreadable) after the last entry: what a commit of the whole
    // batch moves past, so they are neither read nor counted again.
    if (consumed > (batch.ends.at(-1) ?? -1)) batch.ends.push(consumed);
  } finally {
    await fh.close();
  }
  return batch;
}
