import { HttpError } from "../problems/http-error";

/** Percent-encodings that have no business in a template address: dot, slash, backslash, controls. */
const FORBIDDEN_ENCODING = /%(?:2e|2f|5c|[01][0-9a-f]|7f)/i;
const MALFORMED_ENCODING = /%(?![0-9a-f]{2})/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Why a template address (`generator/path` as the URL carried it, before any decoding) could name
 * something other than what it spells, or undefined when it is plain. URL parsing resolves `..`,
 * `%2e%2e` and `\` before a Worker runs; this catches what reaches it unresolved.
 */
export function unsafeTemplateAddressReason(rawAddress: string): string | undefined {
  if (rawAddress.includes("\\")) return "backslash";
  if (CONTROL_CHARACTER.test(rawAddress)) return "control character";
  if (MALFORMED_ENCODING.test(rawAddress)) return "malformed percent-encoding";
  const forbidden = FORBIDDEN_ENCODING.exec(rawAddress);
  if (forbidden) return `encoded character ${forbidden[0].toLowerCase()}`;
  for (const segment of rawAddress.split("/")) {
    if (segment === "") return "empty segment";
    if (segment === "." || segment === "..") return "dot segment";
  }
  return undefined;
}

/** The raw (undecoded) path of a request URL, without query or fragment. */
export function rawPathname(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const end = url.slice(start).search(/[?#]/);
  return end === -1 ? url.slice(start) : url.slice(start, start + end);
}

/** 422 `invalid-template-path` for an address under `prefix` (e.g. `/v1/templates/`) that is not plain. */
export function assertPlainTemplateAddress(url: string, prefix: string): void {
  const pathname = rawPathname(url);
  const at = pathname.indexOf(prefix);
  const address = at === -1 ? pathname : pathname.slice(at + prefix.length);
  const reason = unsafeTemplateAddressReason(address);
  if (reason) {
    throw new HttpError(
      422,
      "invalid-template-path",
      "Invalid template path",
      `A template address must name its template directly: it contains a ${reason}.`,
      { extensions: { field: "path", reason } },
    );
  }
}
