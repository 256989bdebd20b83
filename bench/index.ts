// `npm run bench -- <name> [args…]`: runs one benchmark script from this folder.
const benches = [
  "templates",
  "sparql",
  "sparql-worker",
  "generate",
  "hostile",
  "latency",
  "webhooks",
  "remote-cli",
  "drift",
  "capacity",
  "graph-capacity",
  "graph-upload-worker",
  "load",
] as const;

const [name, ...args] = process.argv.slice(2);
if (!name || !(benches as readonly string[]).includes(name)) {
  console.error(`usage: npm run bench -- <${benches.join("|")}> [args…]`);
  process.exit(2);
}
const suiteModule: { default: (args: string[]) => Promise<void> } = await import(`./${name}.ts`);
await suiteModule.default(args);

export {};
