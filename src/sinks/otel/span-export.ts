import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** What one export call achieved. */
export type SpanExportOutcome = { ok: true } | { ok: false; reason: string };

/**
 * Exports spans and resolves with the exporter's verdict. The callback of `export` is the
 * only confirmation OTLP gives, so it decides whether the sink confirms its events. A guard
 * timer and the caller's abort signal make sure the promise settles even if the callback is
 * never called.
 */
export function exportSpans(
  exporter: SpanExporter,
  spans: ReadableSpan[],
  signal: AbortSignal,
  guardMs: number,
): Promise<SpanExportOutcome> {
  if (signal.aborted) return Promise.resolve({ ok: false, reason: 'aborted before export (shutting down)' });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: SpanExportOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => settle({ ok: false, reason: 'aborted while exporting (shutting down)' });
    const guard = setTimeout(() => settle({ ok: false, reason: `OTLP export gave no answer within ${guardMs} ms` }), guardMs);
    guard.unref();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) settle({ ok: true });
        else settle({ ok: false, reason: `OTLP export failed: ${describe(result.error)}` });
      });
    } catch (err) {
      settle({ ok: false, reason: `OTLP export threw: ${describe(err)}` });
    }
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code !== undefined ? `${err.message || err.name} (${String(code)})` : err.message || err.name;
  }
  return err === undefined ? 'no reason given' : String(err);
}
