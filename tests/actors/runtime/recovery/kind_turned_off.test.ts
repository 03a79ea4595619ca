/**
 * A kind turned off leaves no journal segment behind past what its snapshots cover: a host of
 * `stats` and `anomaly` on a file journal of small segments stops (its snapshots written), starts
 * again with `stats` alone and runs on until what the first run wrote has rolled out; its
 * compaction drops the segments that held anomaly's records, which anomaly's stored snapshots
 * cover. Turned on again, anomaly resumes from those snapshots exactly, no loss found. Where a
 * kind turned off has records past its snapshots (none written: a crash), the start names it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { anomalyActor } from "../../../../actors/anomaly/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { PackedSnapshotStore } from "../../../../actors/runtime/snapshots/mod.ts";
import type { AnyActorDefinition } from "../../../../protocol/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("a kind turned off");

const CHANNELS = 20;

/** A host of `actors` over a file journal of small segments in `dir`. */
async function hostIn(dir: string, actors: AnyActorDefinition[], logs: string[]) {
  const bus = new InProcessBus();
  const journal = await FileJournal.open(`${dir}/journal`, {
    fsync: "never",
    segmentBytesMax: 16 * 1024,
  });
  const snapshots = await PackedSnapshotStore.open(`${dir}/snapshots`, { fsync: false });
  const host = new Host({
    hostId: "h1",
    bus,
    actors,
    journal,
    snapshots,
    snapshotEveryInputs: 1_000_000,
    compactEveryMs: 3_600_000,
    log: (m) => logs.push(m),
    now: () => 1000,
  });
  await host.start();
  const close = async () => {
    await host.stop();
    await journal.close();
    await snapshots.close();
  };
  return { bus, journal, host, close };
}

/** Frames `from` to `to` (exclusive) of every channel, published and flushed. */
async function feed(bus: InProcessBus, from: number, to: number): Promise<void> {
  for (let f = from; f < to; f++) {
    for (let c = 0; c < CHANNELS; c++) {
      const t = Float64Array.from({ length: 4 }, (_, i) => 1.7e15 + (4 * f + i) * 1e6);
      const v = Float64Array.from({ length: 4 }, (_, i) => c + Math.sin(4 * f + i));
      bus.publish(
        feedSubject("t", `m${c}`),
        encodeFrame({ channel: `m${c}`, seq0: 4 * f, t, v }, { id: `f-${c}-${f}`, src: "t" }),
      );
    }
    await bus.flush();
  }
}

/** Waits until `done()`, at most 5 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(done(), what);
}

/** Every channel's anomaly kernel state, as bytes of its snapshot. */
function anomalyStates(host: Host): string[] {
  return Array.from({ length: CHANNELS }, (_, c) => {
    const inst = host.instance("anomaly", `m${c}`);
    return JSON.stringify(inst?.snapshot().kernel ?? null);
  });
}

test("the segments of a kind turned off go once its snapshots cover them", async () => {
  const dir = tempDir();
  const logs: string[] = [];
  try {
    const a = await hostIn(dir.path, [statsActor, anomalyActor], logs);
    await feed(a.bus, 0, 8);
    const applied = (h: Host, kind: string, frames: number) => () =>
      Array.from({ length: CHANNELS }, (_, c) =>
        h.instance(kind, `m${c}`)?.hasApplied(
          `f-${c}-${frames - 1}`,
        )).every(Boolean);
    await until(applied(a.host, "anomaly", 8), "the first run applied every frame");
    const expected = anomalyStates(a.host);
    await a.close();
    const unrunLine = (m: string) => m.includes("kinds this host does not run");
    const held = (files: { path: string }[]) => files.map((s) => s.path).sort();

    const b = await hostIn(dir.path, [statsActor], logs);
    assert.not.ok(logs.some(unrunLine), "snapshots cover every record of the kind turned off");
    const first = held(b.journal.segments());
    assert.ok(first.length >= 1, "the first run's last segment is still there");
    await feed(b.bus, 8, 40);
    const firstKept = () => first.every((p) => b.journal.segments().some((s) => s.path === p));
    await until(
      () => b.journal.segments().filter((s) => s.sealed).length >= first.length + 1 && firstKept(),
      "the second run rolled past the first run's segments",
    );
    await b.close();
    const left = held(b.journal.segments());
    assert.equal(
      left.filter((p) => first.includes(p)),
      [],
      "no segment of the first run is left",
    );

    const c = await hostIn(dir.path, [statsActor, anomalyActor], logs);
    const restored = () =>
      Array.from({ length: CHANNELS }, (_, k) => c.host.instance("anomaly", `m${k}`))
        .every((inst) => inst !== undefined);
    await until(restored, "every anomaly instance restored");
    assert.equal(anomalyStates(c.host), expected, "anomaly resumes from its snapshots");
    assert.not.ok(
      logs.some((m) => /lost|loss|hole/i.test(m)),
      `no loss found:\n${logs.join("\n")}`,
    );
    await c.close();
  } finally {
    dir.remove();
  }
});

test("a kind turned off whose streams hold records past their snapshots is named at the start", async () => {
  const dir = tempDir();
  const logs: string[] = [];
  try {
    // Records of kinds the next host does not run, none snapshotted (as a crash leaves them), and
    // of another host's edge (internal: not a kind).
    const journal = await FileJournal.open(`${dir.path}/journal`, { fsync: "never" });
    for (const stream of ["anomaly/m0", "anomaly/m1", "anomaly/m1", "bars/m0", "_edge/h0"]) {
      journal.append(stream, new Uint8Array([1, 2, 3]));
    }
    await journal.close();
    const b = await hostIn(dir.path, [statsActor], logs);
    await b.close();
    const lines = logs.filter((m) => m.includes("kinds this host does not run"));
    assert.is(lines.length, 1, logs.join("\n"));
    assert.match(
      lines[0]!,
      "anomaly 2 (2 with no snapshot known), bars 1 (1 with no snapshot known).",
    );
    assert.not.match(lines[0]!, "_edge");
  } finally {
    dir.remove();
  }
});

test.run();
