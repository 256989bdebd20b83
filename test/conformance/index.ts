// `npm run conformance -- <suite> [args…]`: runs one conformance suite module from this folder.
const suites = ["nunjucks", "sparql", "rdf-canon"] as const;
type Suite = (typeof suites)[number];

const [suite, ...args] = process.argv.slice(2);
if (!suite || !(suites as readonly string[]).includes(suite)) {
  console.error(`usage: npm run conformance -- <${suites.join("|")}> [args…]`);
  process.exit(2);
}
const suiteModule: { default: (args: string[]) => Promise<void> } = await import(`./${suite as Suite}.ts`);
await suiteModule.default(args);

export {};
