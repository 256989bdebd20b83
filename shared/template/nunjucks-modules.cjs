// One CommonJS entry for every nunjucks/src module the engine uses, so bundlers (vite in the workers pool,
// esbuild in wrangler) keep a single instance of each: two copies of nodes/runtime break instanceof checks.
module.exports = {
  environment: require("nunjucks/src/environment.js"),
  lib: require("nunjucks/src/lib.js"),
  nodes: require("nunjucks/src/nodes.js"),
  parser: require("nunjucks/src/parser.js"),
  runtime: require("nunjucks/src/runtime.js"),
  transformer: require("nunjucks/src/transformer.js"),
};
