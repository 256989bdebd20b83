import { normalizeRdfMediaType, type RdfMediaType, SUPPORTED_RDF_MEDIA_TYPES } from "./formats";

/** The parser for a request's `Content-Type` (parameters ignored); throws UnsupportedMediaTypeError (→ 415). */
export function pickParser(contentType: string | null | undefined): RdfMediaType {
  return normalizeRdfMediaType(contentType ?? "");
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  position: number;
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  accept.split(",").forEach((part, position) => {
    const [range, ...params] = part.split(";").map((piece) => piece.trim());
    if (!range) return;
    const [type, subtype] = range.toLowerCase().split("/");
    if (!type || !subtype) return;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split("=").map((piece) => piece.trim());
      if (name?.toLowerCase() === "q" && value !== undefined) {
        const parsed = Number(value);
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    ranges.push({ type, subtype, q, position });
  });
  return ranges;
}

function specificity(range: MediaRange): number {
  return range.type === "*" ? 0 : range.subtype === "*" ? 1 : 2;
}

/**
 * The best of `available` for an `Accept` header (RFC 9110 q-values; the most specific matching range decides
 * each type's q). Ties go to the type named earlier in the header, then to the order of `available`.
 * No or empty header → the first of `available`. Returns null when nothing is acceptable (→ 406).
 * `canonicalize` maps alias names in the header (e.g. `text/x-nquads`) to one of `available`.
 */
export function negotiateMediaType<T extends string>(
  acceptHeader: string | null | undefined,
  available: readonly T[],
  canonicalize: (mediaType: string) => string | undefined = () => undefined,
): T | null {
  if (!acceptHeader || acceptHeader.trim() === "") return available[0] ?? null;
  const ranges = parseAccept(acceptHeader);
  const aliasOf = (range: MediaRange): string | undefined =>
    range.type === "*" || range.subtype === "*" ? undefined : canonicalize(`${range.type}/${range.subtype}`);
  let best: { mediaType: T; q: number; position: number; order: number } | null = null;
  available.forEach((mediaType, order) => {
    const [type, subtype] = mediaType.split("/");
    let match: MediaRange | undefined;
    for (const range of ranges) {
      const matches =
        range.type === "*" ||
        (range.type === type && (range.subtype === "*" || range.subtype === subtype)) ||
        aliasOf(range) === mediaType;
      if (!matches) continue;
      if (!match || specificity(range) > specificity(match)) match = range;
    }
    if (!match || match.q <= 0) return;
    const candidate = { mediaType, q: match.q, position: match.position, order };
    if (
      !best ||
      candidate.q > best.q ||
      (candidate.q === best.q &&
        (candidate.position < best.position || (candidate.position === best.position && order < best.order)))
    ) {
      best = candidate;
    }
  });
  return (best as { mediaType: T } | null)?.mediaType ?? null;
}

/** The RDF media type an alias in an `Accept` header names (e.g. `text/x-nquads`), for negotiateMediaType. */
export function rdfMediaTypeAlias(mediaType: string): RdfMediaType | undefined {
  try {
    return normalizeRdfMediaType(mediaType);
  } catch {
    return undefined;
  }
}

/** The RDF serializer for an `Accept` header (see negotiateMediaType); null when nothing acceptable (→ 406). */
export function pickSerializer(
  acceptHeader: string | null | undefined,
  available: readonly RdfMediaType[] = SUPPORTED_RDF_MEDIA_TYPES,
): RdfMediaType | null {
  return negotiateMediaType(acceptHeader, available, rdfMediaTypeAlias);
}
