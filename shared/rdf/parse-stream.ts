import type { Quad } from "@rdfjs/types";
import { DocumentTooLargeError, QuadLimitExceededError } from "./errors";
import { createN3Parser, n3ParseError, normalizeRdfMediaType, parseRdf, RDF_MEDIA_TYPES } from "./formats";
import { Utf8StreamDecoder } from "./utf8-text";

export interface ParseStreamOptions {
  baseIRI?: string;
  /** Parsing stops with QuadLimitExceededError as soon as the document yields more quads than this. */
  maxQuads?: number;
  /** Reading stops with DocumentTooLargeError as soon as the body is longer than this many bytes. */
  maxBytes?: number;
  /** Called for each prefix the document declares (Turtle, TriG), in order. */
  onPrefix?: (prefix: string, namespace: string) => void;
}

export interface ParseStreamResult {
  quads: number;
  bytes: number;
}

type Listener = (value?: unknown) => void;

/** The part of a Node stream n3's lexer listens to, fed by hand from a Web stream. */
class TextSource {
  private readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  emit(event: string, value?: unknown): void {
    for (const listener of this.listeners.get(event) ?? []) listener(value);
  }
}

/** Characters of recent text kept to find a syntax error's column (whole lines, at least this many). */
const RECENT_CHARS = 64 * 1024;

/** The most recent whole lines of the document and the number of the first: enough for an error's column. */
class RecentLines {
  private recent = "";
  private first = 1;

  push(text: string): void {
    this.recent += text;
    if (this.recent.length <= 2 * RECENT_CHARS) return;
    const cut = this.recent.lastIndexOf("\n", this.recent.length - RECENT_CHARS);
    if (cut < 0) return;
    for (let i = this.recent.indexOf("\n"); i !== -1 && i <= cut; i = this.recent.indexOf("\n", i + 1)) this.first++;
    this.recent = this.recent.slice(cut + 1);
  }

  get text(): string {
    return this.recent;
  }

  get firstLine(): number {
    return this.first;
  }
}

/** Bytes asked for per read where the runtime can wait for that many (workerd's `readAtLeast`). */
const PIECE_BYTES = 256 * 1024;

interface PieceReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}

type ReadAtLeast = (minBytes: number, view: Uint8Array) => Promise<{ done: boolean; value: Uint8Array | undefined }>;

/**
 * Reads a byte stream in pieces of up to PIECE_BYTES: with workerd's `readAtLeast` (a BYOB extension) one
 * read collects what a request body delivers in many small chunks, each of which would otherwise cost a
 * turn of the event loop; elsewhere, the stream's own chunks.
 */
function pieceReader(input: ReadableStream<Uint8Array>): PieceReader {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = input.getReader({ mode: "byob" });
  } catch {
    byob = undefined;
  }
  const readAtLeast = (byob as unknown as { readAtLeast?: ReadAtLeast } | undefined)?.readAtLeast;
  if (!byob || !readAtLeast) {
    byob?.releaseLock();
    const reader = input.getReader();
    return {
      read: async () => {
        const { done, value } = await reader.read();
        return done ? { done: true } : { done: false, value };
      },
      cancel: () => reader.cancel(),
    };
  }
  const reader = byob;
  return {
    read: async () => {
      const { value } = await readAtLeast.call(reader, PIECE_BYTES, new Uint8Array(PIECE_BYTES));
      if (value && value.byteLength > 0) return { done: false, value };
      return { done: true };
    },
    cancel: () => reader.cancel(),
  };
}

async function readAll(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<{ text: string; bytes: number }> {
  const decoder = new Utf8StreamDecoder();
  let text = "";
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes) throw new DocumentTooLargeError(maxBytes);
    text += decoder.decode(chunk);
  }
  return { text: text + decoder.end(), bytes };
}

/**
 * Parses an RDF document as its bytes arrive, handing each quad to `onQuad`; memory stays bounded by the
 * chunk size for Turtle, TriG, N-Triples and N-Quads. JSON-LD has to be read whole first (the algorithm
 * expands the entire document), within `maxBytes`. Errors are those of parseRdf, plus DocumentTooLargeError;
 * an error thrown by `onQuad` stops parsing and is rethrown as is.
 */
export async function parseRdfStream(
  body: ReadableStream<Uint8Array> | null,
  mediaType: string,
  onQuad: (quad: Quad) => void,
  options: ParseStreamOptions = {},
): Promise<ParseStreamResult> {
  const format = normalizeRdfMediaType(mediaType);
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const input = body ?? new Blob([]).stream();
  if (format === RDF_MEDIA_TYPES.jsonld) {
    const { text, bytes } = await readAll(input, maxBytes);
    const quads = await parseRdf(text, format, options);
    for (const quad of quads) onQuad(quad);
    return { quads: quads.length, bytes };
  }

  const parser = createN3Parser(format, options);
  const source = new TextSource();
  const recent = new RecentLines();
  let failure: { error: unknown } | undefined;
  let quads = 0;
  let ownError = false;
  parser.parse(
    source as never,
    (error: Error | null, quad: Quad | null) => {
      if (failure) return;
      if (error) {
        failure = { error };
        return;
      }
      if (!quad) return;
      try {
        quads += 1;
        onQuad(quad);
      } catch (thrown) {
        ownError = true;
        failure = { error: thrown };
        throw thrown;
      }
    },
    (prefix: string, namespace: Quad["object"]) => options.onPrefix?.(prefix, namespace.value),
  );

  const decoder = new Utf8StreamDecoder();
  const reader = pieceReader(input);
  let bytes = 0;
  let readToEnd = false;
  const feed = (text: string, event: "data" | "end") => {
    if (text) recent.push(text);
    try {
      source.emit(event, text);
    } catch (thrown) {
      failure ??= { error: thrown };
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !value) {
        readToEnd = true;
        break;
      }
      bytes += value.byteLength;
      if (bytes > maxBytes) throw new DocumentTooLargeError(maxBytes);
      const text = decoder.decode(value);
      if (text) feed(text, "data");
      if (failure) break;
    }
    if (!failure) {
      const rest = decoder.end();
      if (rest) feed(rest, "data");
      if (!failure) feed("", "end");
    }
  } finally {
    if (!readToEnd) await reader.cancel().catch(() => undefined);
  }
  if (failure) {
    const { error } = failure;
    if (ownError || error instanceof QuadLimitExceededError || !(error instanceof Error)) throw error;
    if ((error as { context?: unknown }).context === undefined) throw error;
    throw n3ParseError(error, recent.text, format, recent.firstLine);
  }
  return { quads, bytes };
}
