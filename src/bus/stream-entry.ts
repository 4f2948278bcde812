/**
 * The shapes the bus hands to the pipeline. Entries are read as Buffers so that a payload
 * that is not valid UTF-8 is detected (and dead-lettered) rather than silently mangled.
 */

/** One entry read from an event stream by a consumer group. */
export interface StreamEntry {
  /** The stream key the entry came from. */
  stream: string;
  /** The entry id, e.g. `1712345678901-0`. */
  id: string;
  /** The entry's `[field, value, …]`; `null` when the entry was deleted but is still pending. */
  fields: Buffer[] | null;
  /** How many times the group delivered this entry (1 on first delivery), from the PEL. */
  deliveries: number;
}

/** The consumer group of a sink: `sink:<name>`. */
export function groupName(sinkName: string): string {
  return `sink:${sinkName}`;
}

/** The sink name of a group named by {@link groupName}, or undefined for other groups. */
export function sinkOfGroup(group: string): string | undefined {
  return group.startsWith('sink:') ? group.slice('sink:'.length) : undefined;
}

/** Compares two stream ids (`ms-seq`); negative when `a` is older. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const dm = BigInt(am) - BigInt(bm);
  if (dm !== 0n) return dm < 0n ? -1 : 1;
  const ds = BigInt(as) - BigInt(bs);
  return ds === 0n ? 0 : ds < 0n ? -1 : 1;
}

/**
 * Parses the entries of an XREADGROUP/XAUTOCLAIM/XRANGE Buffer reply: `[[id, [f, v, …] | null], …]`.
 * Every entry gets `deliveries` = `deliveries`; callers that know better overwrite it.
 */
export function parseEntries(stream: string, raw: unknown, deliveries = 1): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || item.length < 1) continue;
    const id = String(item[0]);
    const fields = Array.isArray(item[1]) ? (item[1] as unknown[]).map(toBuffer) : null;
    out.push({ stream, id, fields, deliveries });
  }
  return out;
}

function toBuffer(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v));
}
