import {
  CanonicalizationLimitError,
  DocumentTooLargeError,
  InvalidUtf8Error,
  JsonLdDocumentError,
  QuadLimitExceededError,
  RdfSyntaxError,
  RelativeIriError,
  RemoteContextRefusedError,
  ShapesError,
  UnsupportedMediaTypeError,
  VersionTooLargeError,
} from "../../shared/rdf/errors";
import { HttpError } from "./http-error";

export interface RdfProblemOptions {
  /**
   * What a QuadLimitExceededError means on this route: the tenant's triple quota (403 `quota-exceeded`,
   * the default) or the plan's per-request size (413 `payload-too-large`).
   */
  quadLimit?: "quota" | "payload";
}

/**
 * Maps the typed errors of shared/rdf to RFC 9457 problems (HttpError) for the app's single error handler;
 * returns null for anything else, which the caller rethrows. Syntax problems carry `line` and `column`.
 */
export function rdfErrorToHttpError(error: unknown, options: RdfProblemOptions = {}): HttpError | null {
  if (error instanceof UnsupportedMediaTypeError) {
    return new HttpError(415, "unsupported-media-type", "Unsupported media type", error.message, {
      extensions: { mediaType: error.mediaType },
    });
  }
  if (error instanceof RdfSyntaxError) {
    const extensions: Record<string, unknown> = { mediaType: error.mediaType };
    if (error.line !== undefined) extensions.line = error.line;
    if (error.column !== undefined) extensions.column = error.column;
    return new HttpError(400, "rdf-syntax-error", "Invalid RDF document", error.message, { extensions });
  }
  if (error instanceof RelativeIriError) {
    const extensions: Record<string, unknown> = { mediaType: error.mediaType };
    if (error.line !== undefined) extensions.line = error.line;
    if (error.column !== undefined) extensions.column = error.column;
    return new HttpError(422, "relative-iri", "Relative IRI without a base", error.message, { extensions });
  }
  if (error instanceof InvalidUtf8Error) {
    return new HttpError(422, "invalid-utf8", "Body is not valid UTF-8", error.message, {
      extensions: { byteOffset: error.byteOffset },
    });
  }
  if (error instanceof JsonLdDocumentError) {
    return new HttpError(422, "invalid-jsonld-document", "Not a JSON-LD document", error.message, {
      extensions: { found: error.found },
    });
  }
  if (error instanceof RemoteContextRefusedError) {
    return new HttpError(400, "jsonld-remote-context", "Remote JSON-LD context refused", error.message, {
      extensions: { url: error.url },
    });
  }
  if (error instanceof QuadLimitExceededError) {
    return options.quadLimit === "payload"
      ? new HttpError(413, "payload-too-large", "Document too large", error.message, {
          extensions: { limit: error.limit },
        })
      : new HttpError(403, "quota-exceeded", "Triple quota exceeded", error.message, {
          extensions: { limit: error.limit },
        });
  }
  if (error instanceof DocumentTooLargeError) {
    return new HttpError(413, "payload-too-large", "Document too large", error.message, {
      extensions: { limit: error.limit },
    });
  }
  if (error instanceof VersionTooLargeError) {
    return new HttpError(422, "graph-too-large", "Graph version too large", error.message, {
      extensions: { limit: error.limit },
    });
  }
  if (error instanceof CanonicalizationLimitError) {
    return new HttpError(422, "canonicalization-limit", "Graph too complex to canonicalize", error.message);
  }
  if (error instanceof ShapesError) {
    return new HttpError(400, "invalid-shapes", "Unusable SHACL shapes", error.message);
  }
  return null;
}
