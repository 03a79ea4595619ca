/**
 * A host whose journal append meets another writer of the same actor instance, against a real
 * nats-server with the JetStream journal: a second writer appends to `stats/c0` between two of the
 * host's appends. The host must not append on blindly (its instance lacks what the other wrote)
 * nor retry against the refusal forever: it reloads the stream, rebuilds the instance from the
 * journal (the other writer's inputs folded in, an input both journaled applied once) and goes on;
 * a second writer that keeps writing gets the instance stopped and reported. And a host whose own
 * publish reaches the server after its timeout is not another writer.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  type ActorInstance,
  foldInput,
  Host,
  JetStreamJournal,
  MemorySnapshotStore,
  NatsBus,
  type SupervisionOptions,
} from "../../../../actors/runtime/mod.ts";
import {
  decodeInputRecord,
  encodeFrame,
  encodeInputRecord,
  feedSubject,
  type InputRecord,
  sysSubject,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { HeldPublishProxy } from "../../../_support/held_publish_proxy.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

const test = suite("journal conflict");
const it = haveNatsServer("journal conflict") ? test : test.skip;

const STATS = ACTOR_KINDS["stats"]!;
const STREAM = "stats/c0";
const BATCH = 8;

/** Frame `f` of channel c0: the same bytes for the same `f`. */
function frame(f: number): Uint8Array {
  const rng = new Prng(1000 + f);
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 10_000;
    v[i] = 100 + 10 * rng.normal();
  }
  return encodeFrame({ channel: "c0", seq0: f * BATCH, t, v }, { id: `c0-${f}`, src: "test" });
}

/** The journal record a host makes of frame `f` taken from core NATS. */
function frameRecord(f: number): InputRecord {
  return { kind: "frame", srcPos: 0, subject: feedSubject("cf", "c0"), payload: frame(f) };
}

interface Rig {
  server: Awaited<ReturnType<typeof startTestNats>>;
  nc: NatsConnection;
  /** The host's connection: to the server, or through a proxy that can hold its publishes. */
  bus: NatsBus;
  proxy: HeldPublishProxy | undefined;
  snapshots: MemorySnapshotStore;
  host: Host;
  logs: string[];
  stopped: string[];
}

/** How a rig's host is set up. */
interface RigOptions {
  supervision?: Partial<SupervisionOptions>;
  /** Connects the host through a HeldPublishProxy. */
  proxied?: boolean;
  /** The journal's publish timeout, ms. */
  publishTimeoutMs?: number;
}

async function startHost(rig: Omit<Rig, "host">, options: RigOptions) {
  const { supervision = {}, publishTimeoutMs } = options;
  const journal = await JetStreamJournal.open(
    rig.bus.nc,
    publishTimeoutMs === undefined ? {} : { publishTimeoutMs },
  );
  const host = new Host({
    hostId: "conflict",
    bus: rig.bus,
    actors: [STATS],
    config: { stats: { every_samples: 3 } },
    journal,
    snapshots: rig.snapshots,
    compactEveryMs: 1e12, // the journal keeps every record, for a fold from its start
    supervision,
    log: (m) => rig.logs.push(m),
  });
  await host.start();
  return host;
}

async function openRig(options: RigOptions = {}): Promise<Rig> {
  const server = await startTestNats();
  const nc = await connect({ servers: server.url });
  const proxy = options.proxied ? await HeldPublishProxy.start(server.url) : undefined;
  const bus = await NatsBus.connect(proxy?.url ?? server.url);
  const snapshots = new MemorySnapshotStore();
  const parts = { server, nc, bus, proxy, snapshots, logs: [], stopped: [] };
  const rig: Rig = { ...parts, host: await startHost(parts, options) };
  nc.subscribe(sysSubject("actor", "stopped"), {
    callback: (_err, m) => void rig.stopped.push(new TextDecoder().decode(m.data)),
  });
  await nc.flush();
  return rig;
}

async function closeRig(rig: Rig): Promise<void> {
  await rig.host.stop().catch(() => {});
  await rig.bus.close();
  await rig.proxy?.close();
  await rig.nc.close();
  await rig.server.cleanup();
}

/** Waits (at most 20 s) for `done`, failing with `what` and the host's log. */
async function until(
  rig: Rig,
  what: string,
  done: () => boolean | Promise<boolean>,
): Promise<void> {
  const t0 = Date.now();
  while (!(await done())) {
    if (Date.now() - t0 > 20_000) {
      throw new Error(`timed out waiting for ${what}\n${rig.logs.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function instance(host: Host): ActorInstance | undefined {
  return host.instance("stats", "c0");
}

function status(host: Host): string | undefined {
  return host.instances().find((i) => i.stream === STREAM)?.status;
}

/** Publishes frames `fs` on core NATS, for the host's core input. */
async function publish(rig: Rig, fs: number[]): Promise<void> {
  for (const f of fs) rig.nc.publish(feedSubject("cf", "c0"), frame(f));
  await rig.nc.flush();
}

/** Waits until the instance runs at journal position `pos`. */
function at(rig: Rig, pos: number): Promise<void> {
  return until(
    rig,
    `${STREAM} running at position ${pos} (at ${instance(rig.host)?.pos}, ${status(rig.host)})`,
    () => status(rig.host) === "running" && instance(rig.host)?.pos === pos,
  );
}

/** The kernel state of an instance started from the journal's first record and given each frame
 *  of `fs` once, in order: what the live instance must equal. */
async function foldOnce(nc: NatsConnection, fs: number[]): Promise<string> {
  const journal = await JetStreamJournal.open(nc);
  let init: InputRecord | undefined;
  for await (const rec of journal.read(STREAM)) {
    init = decodeInputRecord(rec.data.slice());
    break;
  }
  await journal.close();
  assert.is(init?.kind, "init", "the stream starts with its configuration");
  let inst = foldInput(STATS, "c0", undefined, { pos: 1, record: init!, outputs: false }).inst;
  fs.forEach((f, i) => {
    inst =
      foldInput(STATS, "c0", inst, { pos: i + 2, record: frameRecord(f), outputs: false }).inst;
  });
  return kernelOf(inst);
}

function kernelOf(inst: ActorInstance | undefined): string {
  assert.ok(inst, `${STREAM} has an instance`);
  return Buffer.from(STATS.kernel.save(inst!.kernelState)).toString("base64");
}

/** The host's `troupe_journal_conflicts_total{kind="stats"}`. */
async function conflicts(host: Host): Promise<number> {
  const text = await host.metrics.registry.metrics();
  const m = text.match(/^troupe_journal_conflicts_total\{[^}]*kind="stats"[^}]*\} (\d+)/m);
  return Number(m?.[1] ?? 0);
}

it("an instance whose append met another writer reloads, folds the other writer's inputs in, applies each input once and goes on", async () => {
  const rig = await openRig();
  try {
    await publish(rig, [0, 1, 2, 3]);
    await at(rig, 5); // its configuration at 1, frames 0-3 at 2-5
    // Another writer of the same instance journals frame 4, which this host never receives, and
    // frame 5, which it receives next: its append of frame 5 meets the other writer.
    const other = await JetStreamJournal.open(rig.nc);
    assert.is(await other.append(STREAM, encodeInputRecord(frameRecord(4))), 6);
    assert.is(await other.append(STREAM, encodeInputRecord(frameRecord(5))), 7);
    await other.close();
    await publish(rig, [5, 6, 7]);
    // Frame 5 journaled again at 8 and passed over by its id; frames 6 and 7 at 9 and 10.
    await at(rig, 10);
    const want = await foldOnce(rig.nc, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.is(kernelOf(instance(rig.host)), want, "the live state: each input once, in order");
    assert.is(await conflicts(rig.host), 1, "troupe_journal_conflicts_total");
    assert.match(rig.logs.join("\n"), /stats\/c0: another writer appended to its journal/);
    assert.not.match(rig.logs.join("\n"), /call prepare\(\) to reload it; retrying/);

    // A host started on the journal alone (no snapshot) folds it to the same state.
    await rig.host.stop();
    rig.snapshots = new MemorySnapshotStore();
    rig.host = await startHost(rig, {});
    await at(rig, 10);
    assert.is(kernelOf(instance(rig.host)), want, "the state recovered from the journal");
  } finally {
    await closeRig(rig);
  }
});

it("an instance whose journal keeps meeting another writer is stopped and reported, not spun on", async () => {
  const rig = await openRig({ supervision: { failuresMax: 3 } });
  try {
    await publish(rig, [0]);
    await at(rig, 2);
    const other = await JetStreamJournal.open(rig.nc, { loadPositions: "lazy" });
    let pos = 2;
    for (let round = 1; round <= 3; round++) {
      // The other writer appends a frame of its own, then the host's next frame meets it.
      await other.prepare(STREAM);
      assert.is(await other.append(STREAM, encodeInputRecord(frameRecord(100 + round))), ++pos);
      await publish(rig, [round]);
      await until(rig, `conflict ${round}`, async () => await conflicts(rig.host) === round);
      // Reloaded and rebuilt: the host's frame goes in after the other writer's.
      if (round < 3) await at(rig, ++pos);
    }
    await other.close();
    await until(rig, `${STREAM} stopped`, () => status(rig.host) === "stopped");
    assert.is(await conflicts(rig.host), 3, "troupe_journal_conflicts_total");
    assert.match(rig.logs.join("\n"), /stats\/c0 stopped after 3 failures: .*another writer/);
    await until(rig, "troupe.sys.actor.stopped", () => rig.stopped.length > 0);
    assert.match(rig.stopped[0]!, /stats\/c0/);
    assert.not.match(rig.logs.join("\n"), /; retrying/);
  } finally {
    await closeRig(rig);
  }
});

it("a host whose journal publish reaches the server after its timeout (the ordered_rebuild flake) journals and applies the input once, with no conflict", async () => {
  const rig = await openRig({ proxied: true, publishTimeoutMs: 2000 });
  try {
    await publish(rig, [0, 1]);
    await at(rig, 3);
    // Frame 2's publish is held past the timeout: the look at the subject's last message finds
    // it missing, the publish is sent again, and the server stores the first just before it.
    const journal = await JetStreamJournal.open(rig.nc, { loadPositions: "lazy" });
    rig.proxy!.holdNext(journal.subjectOf(STREAM), 3000);
    await publish(rig, [2, 3]);
    await at(rig, 5);
    const positions: number[] = [];
    for await (const rec of journal.read(STREAM)) positions.push(rec.pos);
    await journal.close();
    assert.equal(positions, [1, 2, 3, 4, 5], "each input journaled once");
    const want = await foldOnce(rig.nc, [0, 1, 2, 3]);
    assert.is(kernelOf(instance(rig.host)), want, "the live state: each input once, in order");
    assert.is(await conflicts(rig.host), 0, "troupe_journal_conflicts_total");
    assert.not.match(rig.logs.join("\n"), /another writer appended/);
  } finally {
    await closeRig(rig);
  }
});

test.run();
