import { WorkBudgetExceededError } from "../core/budget-errors";
import type { TemplateLoader } from "./engine";

/**
 * Distinct templates one render may load from storage (includes, imports, extends): each costs a
 * storage read, so a loop over computed names cannot turn one request into thousands of reads.
 */
export const MAX_TEMPLATE_LOADS = 200;

export interface FetchOnceLoader extends TemplateLoader {
  /** Distinct names fetched so far. */
  readonly fetches: number;
  /** Set when a render asked for more than `limit` distinct templates; the render then fails with it. */
  readonly exceeded: WorkBudgetExceededError | null;
}

/**
 * An async loader for one render (or one batch of renders over the same pinned templates) that
 * fetches each name once: the engine asks its loaders again for every `{% include %}` whose earlier
 * fetch has not finished, so without this a loop of 5,000 includes is 5,000 reads. Sources must not
 * change for the loader's lifetime; a fresh loader per request keeps that true.
 */
export function fetchOnceLoader(
  fetch: (name: string) => Promise<string | null | undefined>,
  limit: number = MAX_TEMPLATE_LOADS,
): FetchOnceLoader {
  const sources = new Map<string, Promise<string | null | undefined>>();
  let exceeded: WorkBudgetExceededError | null = null;
  return {
    async: true,
    get fetches() {
      return sources.size;
    },
    get exceeded() {
      return exceeded;
    },
    getSource(name, cb) {
      let source = sources.get(name);
      if (source === undefined) {
        if (sources.size >= limit) {
          exceeded ??= new WorkBudgetExceededError("template loads", limit, "distinct templates");
          cb?.(exceeded);
          return undefined;
        }
        source = fetch(name);
        sources.set(name, source);
      }
      source.then(
        (src) => cb?.(null, src == null ? null : { src, path: name, noCache: false }),
        (err) => cb?.(err),
      );
      return undefined;
    },
  };
}
