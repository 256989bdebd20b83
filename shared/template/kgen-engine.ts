import type { TemplateLimits } from "./budget";
import { createEngine, type TemplateEngine, type TemplateLoader } from "./engine";
import { createKgenEnvironmentSpec } from "./kgen/kgen-environment";

export interface KgenEngineOptions {
  /** The render's fixed build time (ISO 8601): what `now` and `date` see. */
  buildTime: string;
  /** Seed of `random`, e.g. deriveRenderSeed(templateHash, params); a function is called on the first draw. */
  seed: string | (() => string);
  prefixes?: Readonly<Record<string, string>>;
  loader?: TemplateLoader;
  /** Off by default: KGEN generates code and configuration, not HTML. */
  autoescape?: boolean;
  throwOnUndefined?: boolean;
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  limits?: Partial<TemplateLimits>;
  /** Extra globals for this render (e.g. graph access: `sparql`, `label`). */
  globals?: Record<string, unknown>;
}

/**
 * The engine tenants' templates run in: the eval-free, sandboxed engine with the KGEN environment
 * (deterministic filters, RDF helpers, fixed build time, seeded random) and nothing else.
 */
export function createKgenEngine(options: KgenEngineOptions): TemplateEngine {
  const spec = createKgenEnvironmentSpec({
    buildTime: options.buildTime,
    seed: options.seed,
    prefixes: options.prefixes,
  });
  return createEngine({
    loader: options.loader,
    autoescape: options.autoescape ?? false,
    throwOnUndefined: options.throwOnUndefined ?? false,
    trimBlocks: options.trimBlocks ?? false,
    lstripBlocks: options.lstripBlocks ?? false,
    filters: spec.filters,
    globals: { ...spec.globals, ...options.globals },
    limits: options.limits,
  });
}
