#!/usr/bin/env node
// The `kgen` command. The engine is TypeScript shared with the Worker; tsx loads it as it is.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv);
