/**
 * Where a host's input resumes: no lower than where a snapshot of its edge's decisions noted every
 * input journaled (input_through.ts), not below the oldest source position an instance took, which
 * a channel gone quiet holds far back. Against a real nats-server with JetStream input, a quiet
 * channel's frame and then a busy channel's: after a clean stop, and after a `kill -9` of a
 * `troupe run` process once a periodic round noted the position, nothing the busy channel took
 * comes again (no duplicate) and nothing is lost. The note itself: carried by every later
 * snapshot, never lowered, and an input waiting unjournaled keeps it below its own position. (A
 * journal missing a frame below another's last still resumes from the lowest:
 * resume_from_lowest.test.ts.)
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  ensureFeedStream,
  FEED_STREAM,
  type HostConfig,
  launchHost,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { EdgeDecisions } from "../../../../actors/runtime/edge/mod.ts";
import { InputThrough } from "../../../../actors/runtime/host/input_through.ts";
import type { Slot } from "../../../../actors/runtime/instances/mod.ts";
import { freePort } from "../../../../actors/runtime/transport/free_port.ts";
import { decodeEnvelope, feedSubject } from "../../../../protocol/mod.ts";
import {
  FRAME_SAMPLES,
  type Launched,
  sineFrame,
  statsCount,
} from "../../../_support/stats_feed.ts";
import { haveNatsServer, natsForSuite, tempDir } from "../../../_support/nats.ts";
import { onlyKinds } from "../../../_support/only_kinds.ts";
import { startTroupe } from "../../../_support/cli.ts";

const test = suite("input journaled through");
const it = haveNatsServer("input journaled through") ? test : test.skip;

const nats = natsForSuite(test, it);

const BATCH = FRAME_SAMPLES;

function hostConfig(dir: string): HostConfig {
  const config = defaultHostConfig();
  config.host_id = "through";
  config.nats = nats.url;
  config.data_dir = join(dir, "through");
  config.input = "jetstream";
  config.actors = { stats: { every_samples: 1_000_000 } };
  return config;
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: () => string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function duplicates(launched: Launched): Promise<number> {
  const { values } = await launched.host.metrics.duplicates.get();
  return values.reduce((n, v) => n + v.value, 0);
}

it("after a clean stop the input resumes where it was journaled through: a quiet channel brings nothing back", async () => {
  const dir = tempDir();
  try {
    await ensureFeedStream(nats.nc);
    await (await jetstreamManager(nats.nc)).streams.purge(FEED_STREAM);
    const config = hostConfig(dir.path);
    const js = jetstream(nats.nc);
    let launched = await launchHost(config, ACTOR_KINDS);
    // One frame of a channel that then goes quiet, then 30 of a busy one.
    await js.publish(feedSubject("through", "quiet"), sineFrame("quiet", 0));
    for (let f = 0; f < 30; f++) {
      await js.publish(feedSubject("through", "busy"), sineFrame("busy", f));
    }
    assert.is(await statsCount(launched, "busy", 30 * BATCH), 30 * BATCH);
    assert.is(await statsCount(launched, "quiet", BATCH), BATCH);
    await launched.close();

    launched = await launchHost(config, ACTOR_KINDS);
    await js.publish(feedSubject("through", "busy"), sineFrame("busy", 30));
    assert.is(await statsCount(launched, "busy", 31 * BATCH), 31 * BATCH, "the new frame applied");
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    assert.is(await statsCount(launched, "busy", 31 * BATCH), 31 * BATCH, "nothing applied twice");
    assert.is(await statsCount(launched, "quiet", BATCH), BATCH, "nothing lost");
    // Resumed from the quiet channel's frame, the busy channel's 30 would come again as duplicates.
    assert.is(await duplicates(launched), 0, "no frame read again");
    await launched.close();
  } finally {
    dir.remove();
  }
});

it("after a kill -9 the input resumes no lower than the last snapshot of the decisions noted it journaled", async () => {
  const dir = tempDir();
  let host: ReturnType<typeof startTroupe> | undefined;
  const subs: Array<{ unsubscribe(): void }> = [];
  try {
    await ensureFeedStream(nats.nc);
    await (await jetstreamManager(nats.nc)).streams.purge(FEED_STREAM);
    const js = jetstream(nats.nc);
    const httpPort = await freePort();
    const config = join(dir.path, "host.json");
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "crash",
        nats: nats.url,
        data_dir: join(dir.path, "host"),
        input: "jetstream",
        http_port: httpPort,
        journal: { kind: "file", fsync: "interval", fsync_interval_ms: 20 },
        // A round every 100 ms, the position noted at each that saves the decisions' snapshot.
        snapshots: { every_ms: 100, min_inputs: 1, max_age_ms: 100 },
        actors: onlyKinds({ stats: { every_samples: BATCH } }), // an output per frame applied
      }),
    );
    const applied: string[] = [];
    subs.push(nats.nc.subscribe("troupe.out.stats.*", {
      callback: (_e, m) => void applied.push(decodeEnvelope(m.data).cause!),
    }));
    const metric = async (name: string, label: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(name) && l.includes(label));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
    };
    const send = (channel: string, f: number) =>
      js.publish(feedSubject("crash", channel), sineFrame(channel, f));
    host = startTroupe(["run", "--config", config]);
    await host.waitFor("troupe run: host crash running");
    await send("quiet", 0);
    let last = 0;
    for (let f = 0; f <= 30; f++) last = (await send("busy", f)).seq;
    await until(() => applied.includes("busy-30"), () => `applied ${applied.length}`);
    // A round's snapshot of the decisions saves the last frame's position once it is journaled,
    // with an instance's snapshot or alone.
    const through = () => metric("troupe_input_journaled_through", "");
    await until(async () => (await through()) >= last, () => `the position noted at ${last}`);
    host.signal("SIGKILL");
    await host.exited;

    host = startTroupe(["run", "--config", config]);
    await host.waitFor("troupe run: host crash running");
    await send("busy", 31);
    await until(() => applied.includes("busy-31"), () => `applied ${applied.length}`);
    // Resumed from the quiet channel's frame, the busy channel's 31 would come again as duplicates.
    assert.is(await metric("troupe_duplicate_inputs_total", 'kind="stats"'), 0, host.output());
    assert.ok((await through()) >= last, "read back at the start");
    assert.is(applied.filter((c) => c.startsWith("busy-")).length, 32, "each applied once");
    host.signal("SIGTERM");
    assert.is(await host.exited, 0, host.output());
    host = undefined;
  } finally {
    for (const sub of subs) sub.unsubscribe();
    host?.signal("SIGKILL");
    await host?.exited;
    dir.remove();
  }
});

test("the position noted is carried by every later snapshot of the decisions and read back; never lowered", async () => {
  const journal = new MemoryJournal(), store = new MemorySnapshotStore();
  const log = () => {};
  const first = new EdgeDecisions({ hostId: "h", journal, log });
  first.admit("a", 3);
  first.noteThrough(41, false);
  assert.ok(first.throughMoved);
  first.noteThrough(40, true); // lower: kept at 41, and a snapshot is due for it
  assert.ok(first.sinceSnapshot > 0);
  await store.save(first.snapshot(() => true));
  assert.not.ok(first.throughMoved);
  first.noteThrough(41, true); // not moved: no snapshot due for it
  assert.is(first.sinceSnapshot, 0);

  const second = new EdgeDecisions({ hostId: "h", journal, log });
  await second.recover(store);
  assert.is(second.journaledThrough, 41);
  // A decision after it, and a snapshot without a new note, carry it on.
  second.deadLetter(61, "troupe.feed.h.c", "refused");
  await store.save(second.snapshot(() => true));
  const third = new EdgeDecisions({ hostId: "h", journal, log });
  await third.recover(store);
  assert.is(third.journaledThrough, 41);
  // Without any note, none.
  const empty = new EdgeDecisions({ hostId: "e", journal: new MemoryJournal(), log });
  await empty.recover(new MemorySnapshotStore());
  assert.is(empty.journaledThrough, 0);
});

test("an input waiting unjournaled keeps the position below its own; held inputs leave it unknown", () => {
  const slots = new Map<string, Slot>(), held = { waiting: 0 };
  const through = new InputThrough(slots, held, 1000);
  through.resume(10);
  for (const src of [11, 12, 0, 15]) through.took(src);
  const slot = (name: string, head: number, items: Array<{ src: number; pos?: number }>) =>
    slots.set(
      name,
      {
        head,
        mailbox: items.map((i) => ({ record: { srcPos: i.src }, pos: i.pos })),
      } as unknown as Slot,
    );
  assert.is(through.through(), 15);
  // Taken already (before the head), journaled on arrival, or without a source position.
  slot("settled", 1, [{ src: 11 }, { src: 12, pos: 3 }, { src: 0 }]);
  assert.is(through.through(), 15);
  slot("waiting", 0, [{ src: 14 }, { src: 15 }]);
  assert.is(through.through(), 13);
  slot("older", 0, [{ src: 12 }]);
  assert.is(through.through(), 11);
  held.waiting = 1;
  assert.is(through.through(), 0);
});

test.run();
