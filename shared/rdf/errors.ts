/** The media type names no parser or serializer we have (HTTP 415 on input, 406 on output). */
export class UnsupportedMediaTypeError extends Error {
  readonly mediaType: string;
  constructor(mediaType: string, supported: readonly string[]) {
    super(`Unsupported RDF media type "${mediaType}"; supported: ${supported.join(", ")}`);
    this.name = "UnsupportedMediaTypeError";
    this.mediaType = mediaType;
  }
}

/** The document is not valid in its format. `line` and `column` are 1-based when known. */
export class RdfSyntaxError extends Error {
  readonly mediaType: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(message: string, mediaType: string, line?: number, column?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RdfSyntaxError";
    this.mediaType = mediaType;
    this.line = line;
    this.column = column;
  }
}

/** The document holds more quads than the caller allowed; parsing stopped as soon as the limit was passed. */
export class QuadLimitExceededError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`The document has more than ${limit} quads`);
    this.name = "QuadLimitExceededError";
    this.limit = limit;
  }
}

/** The document is longer than the caller allowed; reading stopped as soon as the limit was passed. */
export class DocumentTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`The document is larger than ${limit} bytes`);
    this.name = "DocumentTooLargeError";
    this.limit = limit;
  }
}

/**
 * A graph version would hold more triples than one version may (MAX_VERSION_TRIPLES, bounded by the
 * Durable Object's storage).
 */
export class VersionTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`A graph version holds at most ${limit} triples; split larger data across several graphs`);
    this.name = "VersionTooLargeError";
    this.limit = limit;
  }
}

/** A JSON-LD document referenced a remote context or document; loading over the network is refused. */
export class RemoteContextRefusedError extends Error {
  readonly url: string;
  constructor(url: string) {
    super(`Remote JSON-LD contexts are not loaded (refused "${url}"); inline the context instead`);
    this.name = "RemoteContextRefusedError";
    this.url = url;
  }
}

/** RDFC-1.0 gave up: the blank-node structure needs more deep-hashing work than the configured budget. */
export class CanonicalizationLimitError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CanonicalizationLimitError";
  }
}

/** The SHACL shapes graph could not be used (not Turtle, or the engine rejected it). */
export class ShapesError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ShapesError";
  }
}

/** An IRI in the document is relative and there is no base to resolve it against. */
export class RelativeIriError extends Error {
  readonly mediaType: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(mediaType: string, line?: number, column?: number) {
    const where = line === undefined ? "" : ` on line ${line}, column ${column}`;
    super(`Relative IRI${where} with no base IRI to resolve it against; use absolute IRIs or declare @base`);
    this.name = "RelativeIriError";
    this.mediaType = mediaType;
    this.line = line;
    this.column = column;
  }
}

/** A text body is not valid UTF-8; `byteOffset` (0-based) is where the first invalid sequence starts. */
export class InvalidUtf8Error extends Error {
  readonly byteOffset: number;
  constructor(byteOffset: number) {
    super(`The body is not valid UTF-8: invalid byte sequence at byte offset ${byteOffset}`);
    this.name = "InvalidUtf8Error";
    this.byteOffset = byteOffset;
  }
}

/** A JSON-LD document must be a JSON object or array; a bare number, string, boolean or null describes nothing. */
export class JsonLdDocumentError extends Error {
  readonly found: string;
  constructor(found: string) {
    super(`A JSON-LD document must be a JSON object or array, not ${found}`);
    this.name = "JsonLdDocumentError";
    this.found = found;
  }
}
