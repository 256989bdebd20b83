import { SUPPORTED_RDF_MEDIA_TYPES } from "../../../shared/rdf/formats";

/** An OpenAPI schema for a raw text body: zod-openapi leaves such bodies to the handler (uploads stay streams). */
const textSchema = { type: "string" as const };
const binarySchema = { type: "string" as const, format: "binary" };

/** `content` of a request or response body in each of `mediaTypes`, as raw text. */
export function rawContent<M extends string>(
  mediaTypes: readonly M[],
  schema: "text" | "binary" = "text",
): Record<M, { schema: { type: "string"; format?: string } }> {
  const body = { schema: schema === "text" ? textSchema : binarySchema };
  return Object.fromEntries(mediaTypes.map((mediaType) => [mediaType, body])) as Record<M, typeof body>;
}

/** An RDF document in any format we parse: streamed, never read by a validator. */
export const rdfDocumentContent = rawContent(SUPPORTED_RDF_MEDIA_TYPES, "binary");

/** An RDF document in any format we serialize. */
export const rdfResponseContent = rawContent(SUPPORTED_RDF_MEDIA_TYPES);
