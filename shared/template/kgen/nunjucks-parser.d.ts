// nunjucks ships no types for its internal parser; only what the KGEN analysis reads is declared.
declare module "nunjucks/src/parser" {
  interface NunjucksParserNode {
    readonly typename: string;
    readonly fields: readonly string[];
    lineno: number;
    colno: number;
    children?: NunjucksParserNode[];
    value?: unknown;
    [field: string]: unknown;
  }
  const parser: {
    parse(source: string, extensions?: unknown[], lexerOptions?: Record<string, unknown>): NunjucksParserNode;
  };

  export type { NunjucksParserNode };
  export default parser;
}
