#!/usr/bin/env -S node --max-semi-space-size=4
// The `troupe` command on Node: runs cli/main.ts, from the compiled mirror (below). On Deno:
// `deno run -A cli/main.ts`.
//
// The V8 flag bounds a host's memory: `--max-semi-space-size=4` caps each of the young
// generation's two semi-spaces at 4 MiB (Node 20 grows them to 16 MiB under a host's allocation
// rate). A host's garbage is short-lived frames, records and machine snapshots, so a smaller young
// generation costs little (`troupe bench pipeline --channels 1000` reports a host's resident
// memory). `--heap-growing-percent=100` would take less memory, but by collecting the old
// generation often: more full collections, a higher latency p99, a slower simulator and a slower
// raw nats.js subscriber in the same process. Run as `node cli/troupe.mjs`, the flag is not
// applied; pass it yourself where memory matters.
//
// The flag is for this, the main isolate: V8 reads it when it makes an isolate's heap, and for a
// worker it wins over the worker's own `resourceLimits`, so a host thread (threaded_host.ts, 3 MiB
// of young generation: see THREAD_YOUNG_GENERATION_MB) would get semi-spaces of 4 MiB under the
// command, not what `troupe bench` measured. So once the main isolate is made, the flag is unset
// (0 is V8's "not given", in actors/runtime/host/heap_flags.mjs) and each worker gets its own
// limits, or Node's default, as under `node cli/troupe.mjs`. A `--max-semi-space-size` in
// NODE_OPTIONS is the user's and stays.
//
// Allocation-site pretenuring is turned off however this file is started (why:
// actors/runtime/host/heap_flags.mjs); workers share the flag.
//
// An installed troupe (a package under node_modules) runs the JavaScript its package was built
// with (dist/, cli/_build_package.mjs): nothing is compiled in the user's project. In the
// repository the sources run compiled to JavaScript (cli/_compile.mjs: a mirror of the TypeScript,
// rebuilt when a source changes); where that cannot be done, or with TROUPE_TSX=1, through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compiledMain } from "./_compile.mjs";
import { applyHeapFlags } from "../actors/runtime/host/heap_flags.mjs";

applyHeapFlags();

const built = new URL("../dist/cli/main.js", import.meta.url);
const installed = /[\\/]node_modules[\\/]/.test(fileURLToPath(import.meta.url)) &&
  existsSync(fileURLToPath(built));
const compiled = installed
  ? built.href
  : process.env.TROUPE_TSX === "1"
  ? undefined
  : await compiledMain();
let main, finish;
if (compiled !== undefined) {
  // Stack traces name the compiled files; NODE_OPTIONS=--enable-source-maps maps them to the
  // TypeScript (it costs ~7 MB and ~60 ms at start-up, so it is not the default).
  ({ main, finish } = await import(compiled));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main, finish } = await import("./main.ts"));
}
finish(await main(process.argv.slice(2)));
