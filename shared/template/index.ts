export { sha256HexSync } from "../core/sha256";
export { defaultLimits, RenderBudget, type TemplateLimits } from "./budget";
export { deniedKeys } from "./compiler/index";
export {
  asyncLoader,
  ClosureTemplate,
  createEngine,
  EngineEnvironment,
  type EngineOptions,
  type ExtensionLike,
  memoryLoader,
  type RenderOptions,
  sharedProgramCount,
  type TemplateEngine,
  type TemplateLoader,
  toEngineError,
} from "./engine";
export { type BudgetKind, TemplateBudgetError, TemplateError, TemplateSecurityError } from "./errors";
