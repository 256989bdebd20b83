// Bundler alias target for `@digitalbazaar/http-client`, required by jsonld's Node document loader. The real
// client loads undici, which compiles WebAssembly at runtime (refused by workerd). shared/rdf always passes its
// own document loader that refuses remote contexts, so this client only ever refuses too. CommonJS because its
// only importer uses require(), and the vitest workers pool loads such targets untransformed. Never import directly.
function refuse() {
  return Promise.reject(new Error("Network access is disabled for JSON-LD document loading"));
}

module.exports = {
  httpClient: { get: refuse, post: refuse, put: refuse, delete: refuse, head: refuse, patch: refuse },
  DEFAULT_HEADERS: {},
};
