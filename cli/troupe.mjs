#!/usr/bin/env node
// The `troupe` command on Node: registers tsx so the TypeScript sources run as they are, then
// hands over to cli/main.ts. On Deno: `deno run -A cli/main.ts`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
