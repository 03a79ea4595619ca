/**
 * The server side of `troupe bench gateway`, in a process of its own so that its memory is its
 * own: a collab server with its stream gateway on the given NATS, its data in a temporary
 * directory, the secret from TROUPE_SECRET. Prints `{ "port": N }` once listening, answers a
 * `stats` line with the gateway's own accounting, and a `stop` line closes it and exits.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { launchCollab } from "../collab/mod.ts";

const [natsUrl, dataDir] = process.argv.slice(2);
const collab = await launchCollab({
  dataDir: dataDir!,
  nats: natsUrl!,
  port: 0,
  nodeId: "bench-gw",
});
await collab.bus!.flush();
console.log(JSON.stringify({ port: collab.server.port }));
createInterface({ input: process.stdin }).on("line", async (line) => {
  if (line.trim() === "stats") console.log(JSON.stringify(collab.stream!.stats()));
  if (line.trim() !== "stop") return;
  await collab.close().catch(() => {});
  console.log(JSON.stringify({ stopped: true }));
  process.exit(0);
});
