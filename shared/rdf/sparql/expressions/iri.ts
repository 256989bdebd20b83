import { ExpressionError } from "./errors";

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const FORBIDDEN_IRI_CHARS = /[ <>"{}|^`\\]/;

function hasForbiddenCharacter(iri: string): boolean {
  for (let i = 0; i < iri.length; i++) if (iri.charCodeAt(i) < 0x20) return true;
  return FORBIDDEN_IRI_CHARS.test(iri);
}

interface IriParts {
  scheme?: string;
  authority?: string;
  path: string;
  query?: string;
  fragment?: string;
}

function parse(iri: string): IriParts {
  const match = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s.exec(iri);
  if (!match) throw new ExpressionError("invalid IRI");
  return { scheme: match[1], authority: match[2], path: match[3] ?? "", query: match[4], fragment: match[5] };
}

function removeDotSegments(path: string): string {
  const output: string[] = [];
  let input = path;
  while (input.length > 0) {
    if (input.startsWith("../")) input = input.slice(3);
    else if (input.startsWith("./")) input = input.slice(2);
    else if (input.startsWith("/./")) input = input.slice(2);
    else if (input === "/.") input = "/";
    else if (input.startsWith("/../")) {
      input = input.slice(3);
      output.pop();
    } else if (input === "/..") {
      input = "/";
      output.pop();
    } else if (input === "." || input === "..") input = "";
    else {
      const next = input.indexOf("/", input.startsWith("/") ? 1 : 0);
      const segment = next === -1 ? input : input.slice(0, next);
      output.push(segment);
      input = next === -1 ? "" : input.slice(next);
    }
  }
  return output.join("");
}

function recompose(parts: IriParts): string {
  let result = "";
  if (parts.scheme !== undefined) result += `${parts.scheme}:`;
  if (parts.authority !== undefined) result += `//${parts.authority}`;
  result += parts.path;
  if (parts.query !== undefined) result += `?${parts.query}`;
  if (parts.fragment !== undefined) result += `#${parts.fragment}`;
  return result;
}

/** RFC 3986 section 5.2 reference resolution, without normalisation. */
export function resolveIri(reference: string, base: string | undefined): string {
  if (hasForbiddenCharacter(reference)) throw new ExpressionError("invalid IRI");
  if (SCHEME_RE.test(reference)) return reference;
  if (base === undefined) throw new ExpressionError("relative IRI without a base IRI");
  const r = parse(reference);
  const b = parse(base);
  const target: IriParts = { scheme: b.scheme, path: "", fragment: r.fragment };
  if (r.authority !== undefined) {
    target.authority = r.authority;
    target.path = removeDotSegments(r.path);
    target.query = r.query;
  } else {
    target.authority = b.authority;
    if (r.path === "") {
      target.path = b.path;
      target.query = r.query ?? b.query;
    } else {
      if (r.path.startsWith("/")) target.path = removeDotSegments(r.path);
      else {
        const merged =
          b.authority !== undefined && b.path === ""
            ? `/${r.path}`
            : b.path.slice(0, b.path.lastIndexOf("/") + 1) + r.path;
        target.path = removeDotSegments(merged);
      }
      target.query = r.query;
    }
  }
  return recompose(target);
}
