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
// on 1,000 channels peaks near 138 MB resident instead of 175 (bench pipeline --channels 1000), for
// a throughput cost within this machine's noise (about 5%). Run as `node cli/troupe.mjs`, the flags
// are not applied; pass them yourself where memory matters.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
