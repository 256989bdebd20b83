import type { RouterRoute } from "hono/types";

const patternCache = new Map<string, RegExp>();

/** Hono path (`/v1/tenants/:id`, `*`) to an anchored regular expression. */
function pathPattern(path: string): RegExp {
  let pattern = patternCache.get(path);
  if (!pattern) {
    const source = path
      .split("/")
      .map((segment) => {
        if (segment === "*") return ".*";
        if (segment.startsWith(":")) return "[^/]+";
        return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    pattern = new RegExp(`^${source}/?$`);
    patternCache.set(path, pattern);
  }
  return pattern;
}

/** Methods that some route serves at this path: non-empty means the client should get 405, not 404. */
export function allowedMethods(routes: RouterRoute[], pathname: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === "ALL" || route.path.endsWith("*")) continue;
    if (pathPattern(route.path).test(pathname)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
