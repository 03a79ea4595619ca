/**
 * A JetStream journal damaged, against a real nats-server: a message deleted from the journal's
 * stream leaves a hole in its subject's positions, and a message whose position header cannot be
 * read cannot be placed; reads pass over both and report each once (the subject, the sequence,
 * the positions missing). `advance` continues a stream's positions past a snapshot. A host on a
 * JetStream journal with a deleted message judges the loss as with the file journal: with core
 * input it refuses to start, naming the stream and the positions, unless told to accept the loss;
 * with JetStream input it reads what was lost again from the feed stream, each input once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import {
  defaultHostConfig,
  ensureFeedStream,
  type HostConfig,
  JetStreamJournal,
  type JournalDamage,
  type JournalRecord,
  launchHost,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { haveNatsServer, natsForSuite, tempDir } from "../../../_support/nats.ts";
import { deleteJournalRecord } from "../../../_support/delete_journal_record.ts";

const test = suite("jetstream journal damage");
const it = haveNatsServer("jetstream journal damage") ? test : test.skip;

const nats = natsForSuite(test, it);

async function collect(records: AsyncIterable<JournalRecord>): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

it("a deleted message and an unreadable position are passed over and reported once each", async () => {
  const names = { stream: "JOURNAL_DMG1", subjectPrefix: "dmg1.journal" };
  const seen: JournalDamage[] = [];
  const j = await JetStreamJournal.open(nats.nc, { ...names, onDamage: (d) => seen.push(d) });
  const seqs: number[] = [];
  for (let i = 1; i <= 8; i++) {
    await j.append("stats/a", new TextEncoder().encode(`a${i}`));
    await j.append("stats/b", new TextEncoder().encode(`b${i}`));
  }
  const jsm = await jetstreamManager(nats.nc);
  // Sequences 1..16 alternate a, b: a's positions 4 and 5 are sequences 7 and 9.
  for (const seq of [7, 9]) seqs.push(seq), await jsm.streams.deleteMessage(names.stream, seq);
  // A message of b whose position header is not a number.
  const h = headers();
  h.set("Troupe-Pos", "x");
  await jetstream(nats.nc).publish(`${names.subjectPrefix}.stats.b`, new Uint8Array(5), {
    headers: h,
  });

  for (let round = 0; round < 2; round++) {
    const all = await collect(j.readAll());
    const a = all.filter((r) => r.stream === "stats/a").map((r) => r.pos);
    const b = all.filter((r) => r.stream === "stats/b").map((r) => r.pos);
    assert.equal(a, [1, 2, 3, 6, 7, 8]);
    assert.equal(b, [1, 2, 3, 4, 5, 6, 7, 8]);
  }
  assert.is(seen.length, 2, JSON.stringify(seen));
  assert.equal(j.damage(), seen);
  const [hole, header] = seen;
  assert.is(hole!.segment, `JOURNAL_DMG1:dmg1.journal.stats.a`);
  assert.is(hole!.offset, 11); // a's position 6, after the hole
  assert.match(hole!.reason, "positions 4-5 missing before it: deleted from JOURNAL_DMG1");
  assert.is(header!.segment, `JOURNAL_DMG1:dmg1.journal.stats.b`);
  assert.is(header!.offset, 17);
  assert.match(header!.reason, /header Troupe-Pos must be a position >= 1, got "x"/);
  assert.is(j.stats().damagedBytes, 5);
  // Reading one stream passes over the hole too.
  assert.equal((await collect(j.read("stats/a", 2))).map((r) => r.pos), [3, 6, 7, 8]);
  await j.close();
});

it("advance continues a stream's positions past a snapshot, also after the journal is opened again", async () => {
  const names = { stream: "JOURNAL_DMG2", subjectPrefix: "dmg2.journal" };
  const j = await JetStreamJournal.open(nats.nc, names);
  for (let i = 0; i < 3; i++) await j.append("stats/a", new Uint8Array([i]));
  j.advance("stats/a", 10);
  assert.is(j.lastPosition("stats/a"), 10);
  assert.is(await j.append("stats/a", new Uint8Array([3])), 11);
  await j.close();
  const again = await JetStreamJournal.open(nats.nc, names);
  assert.is(again.lastPosition("stats/a"), 11);
  assert.equal((await collect(again.read("stats/a"))).map((r) => r.pos), [1, 2, 3, 11]);
  // Positions never go back: an advance below the last position changes nothing.
  again.advance("stats/a", 5);
  assert.is(await again.append("stats/a", new Uint8Array([4])), 12);
  await again.close();
});

const BATCH = 10;
const FRAMES = 30;

function frame(channel: string, f: number): Uint8Array {
  const t = new Float64Array(BATCH).map((_, i) => 1_700_000_000_000_000 + (f * BATCH + i) * 1000);
  const v = new Float64Array(BATCH).map((_, i) => Math.cos(f * BATCH + i));
  return encodeFrame({ channel, seq0: f * BATCH, t, v }, { id: `${channel}-${f}`, src: "t" });
}

function hostConfig(dir: string, input: "core" | "jetstream", hostId: string): HostConfig {
  const config = defaultHostConfig();
  config.host_id = hostId;
  config.nats = nats.url;
  config.data_dir = join(dir, hostId);
  config.input = input;
  config.journal = { ...config.journal, kind: "jetstream" };
  // No snapshot survives: recovery reads the journal from its start, through the hole.
  config.snapshots = { store: "memory", every_inputs: 1_000_000, every_ms: 3_600_000 };
  config.actors = { stats: { every_samples: 1_000_000 } };
  return config;
}

/** The stats instance's sample count once the host has applied `frames` frames. */
async function countAfter(
  launched: Awaited<ReturnType<typeof launchHost>>,
  channel: string,
  frames: number,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const inst = launched.host.instance("stats", channel);
    if (inst && inst.pos > frames) return statsSummary(inst.kernelState as StatsState).count;
    if (Date.now() - t0 > 15_000) {
      throw new Error(`stats/${channel} at ${inst?.pos} of ${frames + 1}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("core input: a host refuses to start over a deleted journal message unless it accepts the loss", async () => {
  const dir = tempDir();
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  try {
    const config = hostConfig(dir.path, "core", "jcore");
    let launched = await launchHost(config, ACTOR_KINDS, { log });
    // One frame at a time, each applied before the next: a journal message each, so that the
    // one deleted loses one input.
    for (let f = 0; f < FRAMES; f++) {
      nats.nc.publish(feedSubject("jd", "j0"), frame("j0", f));
      await countAfter(launched, "j0", f + 1);
    }
    assert.is(await countAfter(launched, "j0", FRAMES), FRAMES * BATCH);
    await launched.close();
    await deleteJournalRecord(nats.nc, "stats/j0", 11);

    let err: Error | undefined;
    try {
      launched = await launchHost(config, ACTOR_KINDS, { log });
      await launched.close();
    } catch (e) {
      err = e as Error;
    }
    assert.ok(err, "the start is refused");
    assert.match(err!.message, "Cannot start: the journal lost 1 run of inputs");
    assert.match(err!.message, "stats/j0: input 11 after source position 0");
    assert.ok(
      logs.some((l) =>
        /journal: damaged at TROUPE_JOURNAL:troupe\.journal\.stats\.j0 sequence \d+ \(position 11 missing/
          .test(l)
      ),
      logs.join("\n"),
    );

    launched = await launchHost({ ...config, accept_journal_loss: true }, ACTOR_KINDS, { log });
    // Every input but the lost one.
    assert.is(await countAfter(launched, "j0", FRAMES - 1), (FRAMES - 1) * BATCH);
    assert.ok(logs.some((l) => l.includes("accepted as lost")), logs.join("\n"));
    await launched.close();
  } finally {
    // The journal's stream is the server's, not the host's: the next test's host would own it.
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.purge("TROUPE_JOURNAL", { filter: "troupe.journal.stats.j0" });
    dir.remove();
  }
});

it("JetStream input: what a deleted journal message held is read again from the feed stream, once", async () => {
  const dir = tempDir();
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);
  try {
    await ensureFeedStream(nats.nc);
    const config = hostConfig(dir.path, "jetstream", "jstream");
    let launched = await launchHost(config, ACTOR_KINDS, { log });
    const js = jetstream(nats.nc);
    for (let f = 0; f < FRAMES; f++) await js.publish(feedSubject("jd2", "j1"), frame("j1", f));
    assert.is(await countAfter(launched, "j1", FRAMES), FRAMES * BATCH);
    await launched.close();
    // The message holding position 11, with whatever run of inputs the host wrote with it.
    const [first, last] = await deleteJournalRecord(nats.nc, "stats/j1", 11, true);

    launched = await launchHost(config, ACTOR_KINDS, { log });
    assert.ok(logs.some((l) => l.includes("reading them again from the input")), logs.join("\n"));
    // Every input once: those lost read again, none of the others applied twice.
    const inst = launched.host.instance("stats", "j1");
    const t0 = Date.now();
    while (statsSummary(inst!.kernelState as StatsState).count < FRAMES * BATCH) {
      if (Date.now() - t0 > 15_000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    assert.is(
      statsSummary(inst!.kernelState as StatsState).count,
      FRAMES * BATCH,
      `positions ${first}-${last} lost, each read again once`,
    );
    await launched.close();
  } finally {
    dir.remove();
  }
});

// The stats kind is what these hosts run; the import keeps the kind's module in the type check.
void statsActor;

test.run();
