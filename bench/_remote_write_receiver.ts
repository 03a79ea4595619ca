/**
 * The receiving side of `troupe bench remote-write`, in a process of its own: troupe's metrics
 * receiver on NATS, on its thread as `troupe run` starts it, acknowledging each request once the
 * feed stream has its batches. Prints `{ "port": N }` once listening; a `stop` line on stdin
 * closes it and exits.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { ReceiverThread } from "../actors/ingest/mod.ts";

const [natsUrl, channels] = process.argv.slice(2);
const receiver = await ReceiverThread.start({ port: 0 }, {
  nats: natsUrl!,
  name: "bench-remote-write",
  defaults: { channelsMax: Number(channels ?? 100_000) },
});
console.log(JSON.stringify({ port: receiver.port }));
createInterface({ input: process.stdin }).on("line", async (line) => {
  if (line.trim() !== "stop") return;
  await receiver.stop();
  process.exit(0);
});
