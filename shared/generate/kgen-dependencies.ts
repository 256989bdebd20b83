import { MemoryBudgetExceededError, NestingTooDeepError, WorkBudgetExceededError } from "../core/budget-errors";
import { QueryBudgetExceededError, ResultLimitExceededError } from "../rdf/sparql/errors";
import { memoryLoader, type TemplateLoader } from "../template/engine";
import { TemplateError } from "../template/errors";
import { parseFrontmatter } from "../template/frontmatter/parse-frontmatter";
import { evaluateSkipIf } from "../template/frontmatter/skip-if";
import { deriveRenderSeed } from "../template/kgen/seeded-random";
import { createKgenEngine } from "../template/kgen-engine";
import { describeUndefinedOutput } from "../template/undefined-output";
import { PinnedQueryError, QueryPendingError } from "./fetched-queries";
import { createGraphGlobals } from "./graph-globals";
import { GraphRequiredError } from "./graph-required-error";
import type { PlanDependencies, PlanTemplate, QueryRows } from "./template-unit";

/**
 * Queries refused (for their size, or for want of a graph), and queries whose result is not fetched yet:
 * the template engine would wrap them into a plain template error.
 */
export function isQueryRefusal(error: unknown): boolean {
  return (
    error instanceof QueryPendingError ||
    (error instanceof PinnedQueryError && error.failure.refusal) ||
    error instanceof QueryBudgetExceededError ||
    error instanceof ResultLimitExceededError ||
    error instanceof MemoryBudgetExceededError ||
    error instanceof WorkBudgetExceededError ||
    error instanceof NestingTooDeepError ||
    error instanceof GraphRequiredError
  );
}

export interface KgenPlanInput {
  /** Every template of the generator: the planned ones and those they include. */
  templates: readonly PlanTemplate[];
  /** The lock's fixed build time: what `now` and `date` see. */
  buildTime: string;
  /** The job params: part of every render's `random` seed. */
  params: Record<string, unknown>;
  /** SELECT over the pinned graph version; synchronous, so `sparql()`/`label()` work while rendering. */
  runQuery(sparql: string): QueryRows;
  prefixes?: Readonly<Record<string, string>>;
  /** Output of undefined or null is an error (the lock's `options.throwOnUndefined`). */
  throwOnUndefined?: boolean;
  /** Engine switches a preview may set; a job renders with the defaults. */
  engine?: { autoescape?: boolean; throwOnUndefined?: boolean; trimBlocks?: boolean; lstripBlocks?: boolean };
  /** The seed of `random` for every render, instead of one derived per render. */
  seed?: string;
  /**
   * Resolves includes instead of the given templates' bodies, e.g. a preview of a stored template
   * reads its generator's other templates only when included. An async loader makes renders async.
   */
  loader?: TemplateLoader;
}

/**
 * The planner's dependencies bound to KGEN's own pieces: frontmatter parser, the sandboxed
 * eval-free engine with the KGEN environment, includes resolved inside the generator, and graph
 * globals reading only the pinned version. Every render is seeded from (template, params, row),
 * never from entropy.
 */
export function kgenPlanDependencies(input: KgenPlanInput): PlanDependencies {
  const byPath = new Map(input.templates.map((template) => [template.path, template]));
  const bodies: Record<string, string> = {};
  for (const template of input.templates) bodies[template.path] = parseFrontmatter(template.source).body;
  const loader = input.loader ?? memoryLoader(bodies);
  return {
    parseFrontmatter,
    evaluateSkipIf,
    runQuery: input.runQuery,
    render(source, context, helpers) {
      const templateHash = byPath.get(helpers.templatePath)?.hash ?? helpers.templatePath;
      const engine = createKgenEngine({
        buildTime: input.buildTime,
        // `rows` (the whole query result) is the same for every unit and already a dependency: leaving it
        // out keeps seeding linear in the row, not in the result.
        seed:
          input.seed ??
          (() =>
            deriveRenderSeed(templateHash, {
              params: input.params,
              purpose: helpers.purpose,
              context: { ...context, rows: undefined },
            })),
        prefixes: input.prefixes,
        throwOnUndefined: input.throwOnUndefined === true,
        loader,
        ...input.engine,
        globals: { ...createGraphGlobals(query) },
      });
      let refusal: unknown;
      function query(text: string) {
        try {
          return helpers.query(text);
        } catch (error) {
          if (isQueryRefusal(error)) refusal = error;
          throw error;
        }
      }
      const fail = (thrown: unknown): never => {
        if (refusal !== undefined) throw refusal;
        const error = describeUndefinedOutput(thrown, source, {
          path: helpers.templatePath,
          firstLine: helpers.firstLine,
        });
        // Report lines of the template file, not of the frontmatter-less body.
        if (error instanceof TemplateError && error.line !== undefined && error.templatePath === undefined) {
          throw new TemplateError(
            error.message,
            error.line + helpers.firstLine - 1,
            error.column,
            helpers.templatePath,
          );
        }
        throw error;
      };
      if (loader.async === true) return engine.renderStringAsync(source, context, { path: undefined }).catch(fail);
      try {
        return engine.renderString(source, context, { path: undefined });
      } catch (error) {
        return fail(error);
      }
    },
  };
}
