/**
 * The media type an artifact is served with, from its file name. Generated files are code,
 * configuration and documentation, so the table favours those (general MIME databases map `.ts`
 * to MPEG transport streams). Text types carry `charset=utf-8`; unknown extensions are bytes.
 */
const TEXT_TYPES: Readonly<Record<string, string>> = {
  ts: "text/typescript",
  mts: "text/typescript",
  cts: "text/typescript",
  tsx: "text/tsx",
  js: "text/javascript",
  mjs: "text/javascript",
  cjs: "text/javascript",
  jsx: "text/jsx",
  json: "application/json",
  jsonld: "application/ld+json",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  xml: "application/xml",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  md: "text/markdown",
  markdown: "text/markdown",
  txt: "text/plain",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  sql: "application/sql",
  graphql: "application/graphql",
  gql: "application/graphql",
  sh: "application/x-sh",
  py: "text/x-python",
  rb: "text/x-ruby",
  go: "text/x-go",
  rs: "text/x-rust",
  java: "text/x-java",
  kt: "text/x-kotlin",
  swift: "text/x-swift",
  c: "text/x-c",
  h: "text/x-c",
  cpp: "text/x-c++",
  hpp: "text/x-c++",
  cs: "text/x-csharp",
  php: "application/x-httpd-php",
  proto: "text/x-protobuf",
  ttl: "text/turtle",
  nt: "application/n-triples",
  nq: "application/n-quads",
  trig: "application/trig",
  sparql: "application/sparql-query",
  rq: "application/sparql-query",
  njk: "text/plain",
  ini: "text/plain",
  env: "text/plain",
  svg: "image/svg+xml",
};

const BINARY_TYPES: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/vnd.microsoft.icon",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  wasm: "application/wasm",
};

const NAME_TYPES: Readonly<Record<string, string>> = {
  dockerfile: "text/plain",
  makefile: "text/plain",
  license: "text/plain",
  ".gitignore": "text/plain",
  ".editorconfig": "text/plain",
};

export function artifactMediaType(path: string): string {
  const name = (path.split("/").pop() ?? path).toLowerCase();
  const byName = NAME_TYPES[name];
  if (byName) return `${byName}; charset=utf-8`;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot + 1) : "";
  const type = extension ? TEXT_TYPES[extension] : undefined;
  if (type) return `${type}; charset=utf-8`;
  return (extension ? BINARY_TYPES[extension] : undefined) ?? "application/octet-stream";
}
