export { applyWriteMode } from "./apply-write-mode";
export { FrontmatterError, type FrontmatterIssue, WriteModeError } from "./frontmatter-error";
export {
  type Frontmatter,
  type ParsedTemplate,
  parseChmod,
  parseFrontmatter,
  validateFrontmatterYaml,
  type WriteMode,
  writeModeOf,
} from "./parse-frontmatter";
export { evaluateSkipIf, parseSkipIf, type SkipIfCondition, SkipIfSyntaxError } from "./skip-if";
