/**
 * The receiving side of `troupe bench gateway`, in a process of its own so that neither side's
 * clients share a process with the server or the publisher: `n` clients of one kind, each counting
 * what it receives, `stream` (StreamClients over `ws`, decoding every frame, subscribed to
 * `troupe.out.>` through the gateway at `target`, a port) or `nats` (nats.js connections to
 * `target`, a NATS URL, each subscribed to `troupe.out.>`). Prints `{ "ready": n }` once every
 * client is subscribed; on an `expect COUNT` line, prints `{ "done_ms": T, "held": H }` once every
 * client holds COUNT messages, T being the wall clock (`performance.timeOrigin + now()`) when the
 * last one got its last; a `stop` line closes them and exits.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { WebSocket } from "ws";
import { NatsBus } from "../actors/runtime/mod.ts";
import { areaPattern } from "../protocol/mod.ts";
import { Keyring, mintToken, StreamClient, type StreamSocketConstructor } from "../collab/mod.ts";

const [kind, target, nArg, countArg, secret] = process.argv.slice(2);
const n = Number(nArg), expected = Number(countArg);
if (
  !(kind === "stream" || kind === "nats") || !target || !(n >= 1) || !(expected >= 1) || !secret
) {
  throw new Error(
    `Cannot start the gateway bench's clients: want "stream|nats TARGET N COUNT SECRET", got ` +
      JSON.stringify(process.argv.slice(2)),
  );
}

const counts = new Int32Array(n);
let lastMs = 0;
/** Messages the gateway reported dropped (gap notices), over all clients. */
let missed = 0;
let reported = false;
const hit = (i: number) => {
  if (++counts[i]! !== expected) return;
  lastMs = performance.timeOrigin + performance.now();
  if (!reported && counts.every((c) => c >= expected)) {
    reported = true;
    console.log(JSON.stringify({ done_ms: lastMs, held: counts.reduce((a, b) => a + b, 0) }));
  }
};

let close: () => Promise<void>;
if (kind === "stream") {
  const ring = await Keyring.fromSecrets([new TextEncoder().encode(secret)]);
  const token = await mintToken(ring, {
    session: "bench",
    role: "viewer",
    ttlS: 3600,
    nowMs: Date.now(),
  });
  let subscribed = 0;
  const clients = Array.from({ length: n }, (_, i) => {
    const client = new StreamClient({
      url: `ws://127.0.0.1:${target}/stream`,
      token,
      WebSocket: WebSocket as unknown as StreamSocketConstructor,
      onMessage: () => hit(i),
      onGap: (g) => (missed += g.missed),
      onSubscribed: () => subscribed++,
      reconnect: false,
    });
    client.subscribe({ subjects: [areaPattern("out")] });
    return client;
  });
  while (subscribed < n) await new Promise((r) => setTimeout(r, 10));
  close = () => {
    for (const c of clients) c.close();
    return Promise.resolve();
  };
} else {
  const buses: NatsBus[] = [];
  for (let i = 0; i < n; i++) {
    const bus = await NatsBus.connect(target, { name: `bench-sub-${i}` });
    bus.subscribe(areaPattern("out"), () => hit(i));
    buses.push(bus);
  }
  await Promise.all(buses.map((b) => b.flush()));
  close = async () => void await Promise.all(buses.map((b) => b.close()));
}
console.log(JSON.stringify({ ready: n }));

createInterface({ input: process.stdin }).on("line", async (line) => {
  const op = line.trim();
  if (op === "held") {
    console.log(JSON.stringify({ held: counts.reduce((a, b) => a + b, 0), missed }));
    return;
  }
  if (op !== "stop") return;
  await close().catch(() => {});
  console.log(JSON.stringify({ stopped: true }));
  process.exit(0);
});
