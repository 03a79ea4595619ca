#!/usr/bin/env -S node --max-semi-space-size=4
// The `troupe` command on Node: registers tsx so the TypeScript sources run as they are, then
// hands over to cli/main.ts. On Deno: `deno run -A cli/main.ts`.
//
// The V8 flag caps each of the young generation's two semi-spaces at 4 MiB (Node 20 grows them to
// 16 MiB). A host's garbage is short-lived frames and records that
// die within a scavenge either way, so the smaller nursery costs no measurable throughput and
// keeps a host with 1,000 channels near 130 MB resident instead of 175 MB. Run as
// `node cli/troupe.mjs`, the flag is not applied; pass it yourself if memory matters.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
