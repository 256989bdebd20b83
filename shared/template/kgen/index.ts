export { sha256HexSync } from "../../core/sha256";
export {
  type AnalyzeTemplateOptions,
  analyzeTemplate,
  type DeterminismFinding,
  extractVariables,
  KGEN_GLOBALS,
  lintDeterminism,
  NUNJUCKS_GLOBALS,
  parseTemplate,
  type TemplateAnalysis,
  TemplateSyntaxError,
} from "./analyze-template";
export { camelCase, constantCase, kebabCase, pascalCase, snakeCase, splitWords } from "./case";
export { compareValues, readPath, sortBy, unique } from "./collections";
export { formatInstant, parseInstant } from "./date";
export { KgenFilterError } from "./errors";
export { inspectTemplate, type TemplateInspection } from "./inspect-template";
export {
  buildTimeFromSourceDateEpoch,
  createKgenEnvironmentSpec,
  type FilterAndGlobalRegistry,
  installKgenEnvironment,
  type KgenEnvironmentOptions,
  type KgenEnvironmentSpec,
  type TemplateFunction,
} from "./kgen-environment";
export {
  BUILTIN_PREFIXES,
  compactIri,
  expandIri,
  inferDatatype,
  iriRef,
  localName,
  mergePrefixes,
  namespace,
  type PrefixMap,
  rdfTermKind,
  termValue,
  turtleLiteral,
  xsdType,
} from "./rdf";
export { deriveRenderSeed, SeededRandom } from "./seeded-random";
export { sortedJson } from "./sorted-json";
export { indent, quote, slug } from "./text";
