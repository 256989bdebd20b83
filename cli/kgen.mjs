#!/usr/bin/env node
// The `kgen` command. The engine is TypeScript shared with the Worker; tsx loads it as it is.
import { register } from "tsx/esm/api";

// node:sqlite (the local graph store) warns that it is experimental on every run; that line is noise
// in a command's output. Every other warning still prints.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (String(warning).includes("SQLite is an experimental feature")) return;
  return emitWarning.call(process, warning, ...rest);
};

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv);
