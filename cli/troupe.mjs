#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=2097152:${GLIBC_TUNABLES} node --max-semi-space-size=32
// The `troupe` command on Node: runs cli/main.ts, from the compiled mirror (below). On Deno:
// `deno run -A cli/main.ts`.
//
// The V8 flag sizes a host's young generation: `--max-semi-space-size=32` lets each of its two
// semi-spaces grow to 32 MiB (Node 20 stops at 16 MiB). A host applies a remote-write request
// (2,000 series, Prometheus's batch) in one go, and what lives through that application must die
// in the young generation: under a smaller cap the collections meanwhile find it alive and promote
// it, and its array buffers then start a full marking of the whole heap every 64 MB (V8's rule
// for array-buffer memory), which costs more the more channels the host holds: a host of many
// channels fell behind its feed under a small cap (docs/configuration.md, Memory). The
// space is a cap, not a reservation: V8 grows the semi-spaces only while collections find much
// alive, so a quiet host stays small; and the command holds them at their first size until the
// old generation is as large as the cap's two semi-spaces (heap_flags.mjs, `holdYoungGeneration`;
// not for the commands that run a computation to its end, `UNHELD_COMMANDS`), so that a small
// host under full load does not pay for it in resident memory (`troupe bench pipeline --channels
// 1000`; the figures: docs/configuration.md, Memory).
// Node gives its command line precedence over NODE_OPTIONS, so a `--max-semi-space-size` there
// does not change this one: the command says so, and how to start node with another
// (heap_flags.mjs, `semiSpaceNotice`). Run as `node cli/troupe.mjs`, the flag is not applied;
// pass it yourself.
//
// The flag is for this, the main isolate: V8 reads it when it makes an isolate's heap, and for a
// worker it wins over the worker's own `resourceLimits`, so a host thread (threaded_host.ts, 3 MiB
// of young generation: see THREAD_YOUNG_GENERATION_MB) would get semi-spaces of 32 MiB under the
// command, not what `troupe bench` measured. So once the main isolate is made, the flag is set to
// what NODE_OPTIONS gives or unset (0 is V8's "not given", in actors/runtime/host/heap_flags.mjs)
// and each worker gets its own limits, or Node's default, as under `node cli/troupe.mjs`.
//
// The environment variable asks glibc's malloc for transparent huge pages and fixes its mmap and
// trim thresholds (why: actors/runtime/host/heap_flags.mjs, MALLOC_TUNABLES); a `GLIBC_TUNABLES`
// of the user's comes after it, and wins.
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
import {
  applyHeapFlags,
  semiSpaceNotice,
  UNHELD_COMMANDS,
} from "../actors/runtime/host/heap_flags.mjs";

const notice = semiSpaceNotice(
  process.env.NODE_OPTIONS ?? "",
  process.execArgv,
  fileURLToPath(import.meta.url),
);
if (notice !== undefined) console.error(notice);
applyHeapFlags({ holdYoung: !UNHELD_COMMANDS.has(process.argv[2] ?? "") });

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
