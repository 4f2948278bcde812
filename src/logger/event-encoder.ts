import type { AiUsage, Attrs, EventType, Identity, JobRef, Level, TraceRef } from '../events/index.js';
import { SCHEMA_VERSION } from '../events/index.js';

/**
 * Writes an event's JSON text directly. The fields that never change for one job attempt
 * (source, producer, job, trace) are serialized once, when the attempt's logger is created,
 * and spliced into every event: the hot path stringifies only what is new in the call.
 * The output parses to exactly the object `JSON.stringify(event)` would produce.
 */

/** The fields shared by every event of one job attempt (or of the logger itself). */
export interface EventStaticFields {
  source: Identity;
  producer: string;
  job?: JobRef;
  trace?: TraceRef;
}

/** The per-event part of an event. */
export interface EventParts {
  id: string;
  /** Unix ms. */
  time: number;
  level: Level;
  type: EventType;
  seq: number;
  message?: string | undefined;
  ai?: AiUsage | undefined;
  attrs?: Attrs | undefined;
  data: object;
}

/** Encodes events that share {@link EventStaticFields}. */
export interface EventEncoder {
  /** The event's JSON text (the `e` field of a stream entry). */
  encode(parts: EventParts): string;
}

/** Makes the encoders of one logger: the source and producer are serialized once, here. */
export type EventEncoderFactory = (job?: JobRef, trace?: TraceRef) => EventEncoder;

/**
 * Creates an {@link EventEncoderFactory} for one source and producer. A job attempt's encoder
 * then costs one `JSON.stringify` of its job and trace, not of the whole identity again.
 */
export function createEventEncoderFactory(source: Identity, producer: string): EventEncoderFactory {
  const base = JSON.stringify({ source, producer }).slice(1, -1);
  return (job, trace) => {
    let staticJson = base;
    if (job) staticJson += `,"job":${JSON.stringify(job)}`;
    if (trace) staticJson += `,"trace":${JSON.stringify(trace)}`;
    return encoderOf(staticJson);
  };
}

/** Creates an {@link EventEncoder} for one set of static fields. */
export function createEventEncoder(fields: EventStaticFields): EventEncoder {
  return createEventEncoderFactory(fields.source, fields.producer)(fields.job, fields.trace);
}

function encoderOf(staticJson: string): EventEncoder {
  return {
    encode(p: EventParts): string {
      // id, level and type are safe by construction (hex + dashes, fixed enums): no escaping.
      let s = `{"v":${SCHEMA_VERSION},"id":"${p.id}","time":${p.time},"level":"${p.level}","type":"${p.type}","seq":${p.seq},${staticJson}`;
      if (p.message !== undefined) s += `,"message":${JSON.stringify(p.message)}`;
      if (p.ai !== undefined) s += `,"ai":${JSON.stringify(p.ai)}`;
      if (p.attrs !== undefined) s += `,"attrs":${JSON.stringify(p.attrs)}`;
      return `${s},"data":${JSON.stringify(p.data)}}`;
    },
  };
}
