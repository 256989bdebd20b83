import { bytesToHex } from "../../shared/core/encoding";

/** W3C trace context version 00: `00-<trace id>-<parent span id>-<flags>`. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const randomHex = (bytes: number) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));

/** A queue message that carries the trace of the work that sent it. */
export interface TracedMessage {
  /** The sender's W3C `traceparent`; absent on messages sent before traces were carried. */
  traceparent?: string;
}

export interface TraceContext {
  traceId: string;
  spanId: string;
  flags: string;
}

/** The trace context a `traceparent` value names, or undefined when it is missing or malformed (all-zero ids too). */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== "string") return undefined;
  const match = TRACEPARENT.exec(value);
  if (!match?.[1] || !match[2] || !match[3] || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { traceId: match[1], spanId: match[2], flags: match[3] };
}

export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

/** A new span in the same trace as `traceparent` (a new trace when it has none): what a consumer or callee works in. */
export function childTrace(traceparent: unknown): TraceContext {
  const parent = parseTraceparent(traceparent);
  return { traceId: parent?.traceId ?? randomHex(16), spanId: randomHex(8), flags: parent?.flags ?? "01" };
}
