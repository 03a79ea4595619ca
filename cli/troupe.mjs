#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=100
// The `troupe` command on Node: registers tsx so the TypeScript sources run as they are, then
// hands over to cli/main.ts. On Deno: `deno run -A cli/main.ts`.
//
// The V8 flags bound a host's memory. `--max-semi-space-size=4` caps each of the young
// generation's two semi-spaces at 4 MiB (Node 20 grows them to 16 MiB). A host's garbage is
// short-lived frames, records and machine snapshots; what survives a scavenge or two (an instance's
// current snapshot, frames waiting in a mailbox) is promoted and dies in the old generation, which
// V8 otherwise lets grow to several times its live size before collecting it;
// `--heap-growing-percent=100` collects it once it has doubled. With both, a host running `stats`
// on 1,000 channels peaks near 108 MB resident instead of 137-168 (bench pipeline --channels
// 1000), for a throughput cost within this machine's noise (about 5%). Run as
// `node cli/troupe.mjs`, the flags are not applied; pass them yourself where memory matters.
//
// The sources run compiled to JavaScript (cli/_compile.mjs: a mirror of the TypeScript, rebuilt
// when a source changes); where that cannot be done, or with TROUPE_TSX=1, through tsx.
import { compiledMain } from "./_compile.mjs";

const compiled = process.env.TROUPE_TSX === "1" ? undefined : await compiledMain();
let main;
if (compiled !== undefined) {
  // Stack traces name the compiled files; NODE_OPTIONS=--enable-source-maps maps them to the
  // TypeScript (it costs ~7 MB and ~60 ms at start-up, so it is not the default).
  ({ main } = await import(compiled));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("./main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
