/**
 * URL templates filled from a JSON payload: `{repository.full_name}` is the value at that dotted path.
 * Placeholders may only stand in the path or query, never in the scheme or host, and each value is
 * encoded segment by segment (a `/` in the value stays a path separator; `.` and `..` segments are
 * refused), so a payload can choose a document on the templated host but never another host.
 */
export class UrlTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UrlTemplateError";
  }
}

const PLACEHOLDER = /\{([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\}/g;
export const MAX_URL_TEMPLATE_PLACEHOLDERS = 16;

/** The dotted paths a template reads, in order; throws UrlTemplateError for a malformed template. */
export function urlTemplatePlaceholders(template: string): string[] {
  const authority = template.indexOf("://");
  if (authority < 0) throw new UrlTemplateError("the template must be an absolute URL");
  const pathStart = template.indexOf("/", authority + 3);
  const paths: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (pathStart < 0 || match.index < pathStart)
      throw new UrlTemplateError("placeholders may only appear in the path or query, not in the scheme or host");
    paths.push(match[1] as string);
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, "")))
    throw new UrlTemplateError("a brace that is not part of a {dotted.path} placeholder");
  if (paths.length > MAX_URL_TEMPLATE_PLACEHOLDERS)
    throw new UrlTemplateError(`at most ${MAX_URL_TEMPLATE_PLACEHOLDERS} placeholders`);
  return paths;
}

/** The value at a dotted path of the payload (own properties only), or undefined. */
function valueAt(payload: unknown, path: string): unknown {
  let current = payload;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current) || !Object.hasOwn(current, key))
      return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function encodePathValue(path: string, value: unknown): string {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
    throw new UrlTemplateError(`{${path}} is missing from the payload or is not a string, number or boolean`);
  const text = String(value);
  const segments = text.split("/");
  if (text === "" || segments.some((segment) => segment === "" || segment === "." || segment === ".."))
    throw new UrlTemplateError(`{${path}} has an empty, "." or ".." path segment`);
  return segments.map(encodeURIComponent).join("/");
}

/** The template with each placeholder replaced by its payload value; throws UrlTemplateError when one is missing. */
export function expandUrlTemplate(template: string, payload: unknown): string {
  urlTemplatePlaceholders(template);
  return template.replace(PLACEHOLDER, (_, path: string) => encodePathValue(path, valueAt(payload, path)));
}
