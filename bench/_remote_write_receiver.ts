/**
 * The receiving side of `troupe bench remote-write`, in a process of its own: troupe's metrics
 * receiver on NATS, acknowledging each request once the feed stream has its batches. Prints
 * `{ "port": N }` once listening; a `stop` line on stdin closes it and exits.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { IngestServer, parseIngestSettings } from "../actors/ingest/mod.ts";
import { ensureFeedStream, NatsBus } from "../actors/runtime/mod.ts";

const [natsUrl, channels] = process.argv.slice(2);
const bus = await NatsBus.connect(natsUrl!, { name: "bench-remote-write" });
await ensureFeedStream(bus.nc);
const server = new IngestServer(
  parseIngestSettings({ port: 0, channels_max: Number(channels ?? 100_000) }),
  { bus, durable: true },
);
await server.start();
console.log(JSON.stringify({ port: server.port }));
createInterface({ input: process.stdin }).on("line", async (line) => {
  if (line.trim() !== "stop") return;
  await server.stop();
  await bus.close();
  process.exit(0);
});
