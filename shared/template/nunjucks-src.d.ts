// biome-ignore-all lint/suspicious/noExplicitAny: declarations of untyped CommonJS modules.
// nunjucks' CommonJS source modules, imported one by one (never the browser bundle: two copies of `nodes` break instanceof).
declare module "nunjucks/src/environment.js" {
  const m: any;
  export default m;
}
declare module "nunjucks/src/runtime.js" {
  const m: any;
  export default m;
}
declare module "nunjucks/src/lib.js" {
  const m: any;
  export default m;
}
declare module "nunjucks/src/nodes.js" {
  const m: any;
  export default m;
}
declare module "nunjucks/src/parser.js" {
  const m: any;
  export default m;
}
declare module "nunjucks/src/transformer.js" {
  const m: any;
  export default m;
}
declare module "nunjucks/src/compiler.js" {
  const m: any;
  export default m;
}
declare module "nunjucks/src/jinja-compat.js" {
  const m: any;
  export default m;
}
declare module "asap" {
  const asap: (task: () => void) => void;
  export default asap;
}
declare module "*/nunjucks-modules.cjs" {
  const m: { environment: any; lib: any; nodes: any; parser: any; runtime: any; transformer: any };
  export default m;
}
