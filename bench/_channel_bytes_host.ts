/**
 * The host of one arm of `troupe bench channel-bytes`, in a process of its own (its heap is what
 * is measured): a Host of the kinds given, on an in-process bus, with a file journal and a packed
 * snapshot store in the directory given, as `troupe run` keeps them. It measures its heap and
 * array buffers after a forced collection with the host started and no channel, feeds each
 * channel its samples (one a frame, the step given apart, the remote-write bench's series and
 * channel names), measures again, and prints one JSON line: the bytes a channel added, and the
 * bytes its instances' kernel states save (what the kernels hold, the floor).
 *
 * Arguments: kinds (comma-separated), channels, samples, directory, seconds between a channel's
 * samples.
 */
import { join } from "node:path";
import process from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { FileJournal, Host, InProcessBus, PackedSnapshotStore } from "../actors/runtime/mod.ts";
import { encodeFrame, feedSubject, type Kernel } from "../protocol/mod.ts";
import { channelNameOf, frameSample } from "./_channel_bytes_feed.ts";

const [kindList = "", channelsArg = "0", samplesArg = "0", dir = ".", stepArg = "15"] = process.argv
  .slice(2);
const kinds = kindList.split(",").filter(Boolean);
const channels = Number(channelsArg), samples = Number(samplesArg), stepMs = Number(stepArg) * 1000;

/** A forced collection: `--expose-gc` set at run time, its `gc` taken from a fresh context. */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as unknown;
  if (typeof gc !== "function") throw new Error("Cannot force a garbage collection here");
  return gc as () => void;
}

const gc = collector();

/** Heap used and array buffers, after collections, in bytes. */
async function heldBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Resolves once the host has applied what it was given: its instances' journal positions have
 * not moved over three looks 100 ms apart (a group's instance, fed by every channel, lags).
 */
async function settled(): Promise<void> {
  let last = -1, still = 0;
  while (still < 3) {
    await new Promise((r) => setTimeout(r, 100));
    let sum = 0;
    for (const i of host.instances()) sum += i.pos;
    still = sum === last ? still + 1 : 0;
    last = sum;
  }
}

const bus = new InProcessBus();
const host = new Host({
  hostId: "bench-channel-bytes",
  bus,
  actors: kinds.map((k) => ACTOR_KINDS[k]!),
  config: Object.fromEntries(kinds.map((k) => [k, {}])),
  journal: await FileJournal.open(join(dir, "journal"), { fsync: "never" }),
  snapshots: await PackedSnapshotStore.open(join(dir, "snapshots")),
  limits: { channelsMax: channels + 1 },
  log: (m) => process.stderr.write(`${m}\n`),
});
await host.start();
await bus.flush();
const before = await heldBytes();
const names = Array.from({ length: channels }, (_, c) => channelNameOf(c));
for (let i = 0; i < samples; i++) {
  for (let c = 0; c < channels; c++) {
    const { t, v } = frameSample(c, i, stepMs);
    const frame = { channel: names[c]!, seq0: i, t: Float64Array.of(t), v: Float64Array.of(v) };
    bus.publish(
      feedSubject("bench", names[c]!),
      encodeFrame(frame, {
        id: `remote_write-${i.toString(16).padStart(16, "0")}-${c}`,
        src: "bench",
      }),
    );
    if (c % 500 === 499) await bus.flush();
  }
  await bus.flush();
}
await bus.flush();
await settled();
const after = await heldBytes();
let saved = 0;
for (const kind of kinds) {
  const kernel = ACTOR_KINDS[kind]!.kernel as Kernel<unknown, unknown, unknown>;
  for (const name of names) {
    const inst = host.instance(kind, name);
    if (inst) saved += kernel.save(inst.kernelState).byteLength;
  }
}
const admitted = host.health().channels?.admitted;
process.stdout.write(
  `${JSON.stringify({ before, after, saved, admitted, instances: host.instances().length })}\n`,
);
process.exit(0);
