import { expandLines, parseSharedMembers, SCHEMA_VERSION } from '../events/index.js';
import type { PendingEntry } from './event-buffer.js';

/**
 * Packs: runs of consecutive events of one producer and stream, each written to Redis as one
 * packed stream entry (`v s b`, see events/codec.ts). The publisher packs events as they
 * arrive (a {@link PackWriter}), so what waits for Redis is one Buffer per 64 events, not an
 * object and a string per event; and a pack is fixed once closed, so a resent pack is
 * the same bytes as before and Redis's add-once check can take or skip it whole.
 *
 * In a pack, the producer's identity is written once (the `s` field) and each job attempt's
 * `job` and `trace` once, on the attempt's first line; its later lines say `"@":<that line>`.
 */

/** Most events in one pack (readers accept up to MAX_EVENTS_PER_ENTRY). */
export const PACK_MAX_EVENTS = 64;

/** Most payload characters in one pack (a larger event goes alone). */
export const PACK_MAX_CHARS = 512 * 1024;

/** A closed pack, waiting for Redis. */
export interface Pack {
  readonly stream: string;
  readonly producer: string;
  /** The `s` field (`{"source":…,"producer":…}`), or '' when every line is a whole event. */
  readonly shared: string;
  readonly firstSeq: number;
  /** The seqs, when they are not `firstSeq, firstSeq + 1, …` (an event was dropped in between). */
  readonly seqs: readonly number[] | undefined;
  readonly count: number;
  /** What the pack's events count against the memory bound (see PendingEntry.bytes). */
  readonly bytes: number;
  /**
   * The lines, joined by "\n", as UTF-8: bytes outside the JS heap while the pack waits for
   * Redis (the garbage collector neither scans nor copies them; a string payload was most of
   * what the worker's young generation kept alive), and what the socket sends as they are.
   */
  readonly payload: Buffer;
}

/** The seq of event `i` of a pack. */
export function packSeq(p: Pack, i: number): number {
  return p.seqs ? p.seqs[i]! : p.firstSeq + i;
}

/** Fills packs from events, in order. */
export class PackWriter {
  private stream = '';
  private producer = '';
  /** The open pack's shared members (compared by identity: one string per logger), or undefined for whole events. */
  private sharedMembers: string | undefined = undefined;
  private firstSeq = 0;
  private lastSeq = 0;
  private seqs: number[] | undefined = undefined;
  /** The open pack's text: one element per event, or per run of events added by {@link appendLines}. */
  private lines: string[] = [];
  private events = 0;
  private chars = 0;
  private packBytes = 0;
  private closedPacks = 0;
  /** Line of each job attempt already written whole in the open pack (events added one by one). */
  private readonly attemptLine = new Map<string, number>();

  /** @param maxEvents Most events per pack (1: every event alone). Default {@link PACK_MAX_EVENTS}. */
  constructor(readonly maxEvents: number = PACK_MAX_EVENTS) {}

  /** Events in the open pack (also the line index the next event gets). */
  get count(): number {
    return this.events;
  }

  /** What the open pack's events count against the memory bound. */
  get bytes(): number {
    return this.packBytes;
  }

  /**
   * Counts the packs closed so far: a line index taken from {@link count} names a line of the
   * open pack only while this has not changed.
   */
  get generation(): number {
    return this.closedPacks;
  }

  /** Adds one event to the open pack; returns the pack it closed first to make room, if any. */
  add(e: PendingEntry): Pack | undefined {
    const closed = this.events === 0 || this.fits(e.stream, e.producer, e.shared, 1, lineChars(e)) ? undefined : this.close();
    this.append(e);
    return closed;
  }

  /**
   * Makes room for `n` lines of at most `maxChars` characters in all, of `stream` and
   * `producer`, with `shared` members: closes the open pack (returned) unless they fit in it.
   * The lines then start at line {@link count} of the open pack; add them with {@link appendLines}.
   */
  reserve(stream: string, producer: string, shared: string, n: number, maxChars: number): Pack | undefined {
    return this.events === 0 || this.fits(stream, producer, shared, n, maxChars) ? undefined : this.close();
  }

  /**
   * Adds `n` events written as lines by the caller (joined by "\n", with `"@"` references
   * counted from {@link count}), after {@link reserve} made room for them with the same
   * stream, producer and shared members; their seqs are `firstSeq` onwards.
   */
  appendLines(stream: string, producer: string, shared: string, firstSeq: number, n: number, text: string, bytes: number): void {
    this.noteSeqs(stream, producer, shared, firstSeq, n);
    this.lines.push(text);
    this.events += n;
    this.chars += text.length + 1;
    this.packBytes += bytes;
  }

  /** Closes the open pack; undefined when it holds nothing. */
  close(): Pack | undefined {
    const n = this.events;
    if (n === 0) return undefined;
    const shared = this.sharedMembers;
    const pack: Pack = {
      stream: this.stream,
      producer: this.producer,
      shared: shared === undefined ? '' : `{${shared}}`,
      firstSeq: this.firstSeq,
      seqs: this.seqs,
      count: n,
      bytes: this.packBytes,
      payload: Buffer.from(this.lines.length === 1 ? this.lines[0]! : this.lines.join('\n')),
    };
    this.lines = [];
    this.events = 0;
    this.seqs = undefined;
    this.chars = 0;
    this.packBytes = 0;
    this.closedPacks++;
    this.attemptLine.clear();
    return pack;
  }

  private fits(stream: string, producer: string, shared: string | undefined, n: number, chars: number): boolean {
    return (
      stream === this.stream &&
      producer === this.producer &&
      shared === this.sharedMembers &&
      this.events + n <= this.maxEvents &&
      this.chars + chars <= PACK_MAX_CHARS
    );
  }

  /** Starts the open pack or carries its seqs on, for `n` events from `firstSeq`. */
  private noteSeqs(stream: string, producer: string, shared: string | undefined, firstSeq: number, n: number): void {
    const count = this.events;
    if (count === 0) {
      this.stream = stream;
      this.producer = producer;
      this.sharedMembers = shared;
      this.firstSeq = firstSeq;
    } else if (this.seqs === undefined && firstSeq !== this.lastSeq + 1) {
      this.seqs = Array.from({ length: count }, (_, i) => this.firstSeq + i);
    }
    if (this.seqs !== undefined) for (let i = 0; i < n; i++) this.seqs.push(firstSeq + i);
    this.lastSeq = firstSeq + n - 1;
  }

  private append(e: PendingEntry): void {
    const n = this.events;
    this.noteSeqs(e.stream, e.producer, e.shared, e.seq, 1);
    this.lines.push(this.lineOf(e, n));
    this.events++;
    this.chars += lineChars(e) + 1;
    this.packBytes += e.bytes;
  }

  private lineOf(e: PendingEntry, index: number): string {
    if (e.shared === undefined) return e.json;
    const { attempt } = e;
    if (attempt === undefined) return `{${e.json}}`;
    const k = this.attemptLine.get(attempt);
    if (k !== undefined) return `{${e.json},"@":${k}}`;
    this.attemptLine.set(attempt, index);
    return `{${e.json},${attempt}}`;
  }
}

/** The most characters an event's line takes. */
function lineChars(e: PendingEntry): number {
  return e.json.length + (e.attempt === undefined ? 2 : e.attempt.length + 3);
}

/** Packs events, in order (the spool's replay, tests), at most `maxEvents` a pack (1: each alone). */
export function packEntries(entries: readonly PendingEntry[], maxEvents: number = PACK_MAX_EVENTS): Pack[] {
  const out: Pack[] = [];
  const w = new PackWriter(maxEvents);
  for (const e of entries) {
    const closed = w.add(e);
    if (closed) out.push(closed);
  }
  const last = w.close();
  if (last) out.push(last);
  return out;
}

/**
 * A pack's events as whole events again, for the spool (which keeps each event on its own
 * line). Slow, but taken only when Redis is away and memory is full, or at close.
 */
export function unpack(p: Pack): PendingEntry[] {
  const text = p.payload.toString('utf8');
  const lines = p.count === 1 ? [text] : text.split('\n');
  const whole = p.shared === '' ? lines : expandWhole(lines, p.shared);
  return whole.map((json, i) => ({ stream: p.stream, json, shared: undefined, attempt: undefined, bytes: json.length, producer: p.producer, seq: packSeq(p, i) }));
}

function expandWhole(lines: readonly string[], sharedText: string): string[] {
  const shared = parseSharedMembers(sharedText);
  const expanded = expandLines(lines, { shared: shared.ok ? shared.members : {}, version: SCHEMA_VERSION, maxLineBytes: Number.MAX_SAFE_INTEGER });
  // Our own lines always expand; should one not, it is kept as written rather than lost.
  return expanded.map((x, i) => (x.ok ? JSON.stringify(x.raw) : lines[i]!));
}
