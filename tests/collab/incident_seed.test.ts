/**
 * The collab server's incidents from before it started, against a real nats-server and a real
 * incident stage: a server started after an incident opened lists it in its history answers (the
 * log seeded from the stage's list) and in `GET /incidents`, and a server with no stage answering
 * starts at once, says so once, and takes the list when a stage answers later; after a NATS
 * reconnect it asks again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  defaultIncidentConfig,
  IncidentStage,
  runIncidentStage,
} from "../../actors/incidents/mod.ts";
import { ensureFeedStream, NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { IncidentLog } from "../../collab/history/incident_log.ts";
import { IncidentSeed } from "../../collab/history/incident_seed.ts";
import {
  decodeHistoryResponse,
  decodeIncidentList,
  encodeEventEnvelope,
  findingSubject,
  historyQuery,
  incidentListSubject,
} from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";

const NAME = "incident seed";
const run = haveNatsServer(NAME);
const test = suite(NAME);
const S = 1_000_000;

/**
 * Publishes anomaly findings of `channels`, a second apart, then one more of the first 3 s later
 * (past the stage's reorder bound, so it takes the others), the last 2 s before now.
 */
async function crash(bus: NatsBus, channels: string[], tag: string): Promise<number> {
  const t0 = Date.now() * 1000 - (channels.length + 5) * S;
  const at = [...channels.map((_, i) => t0 + i * S), t0 + (channels.length + 3) * S];
  [...channels, channels[0]!].forEach((channel, i) =>
    bus.publish(
      findingSubject("anomaly", channel),
      encodeEventEnvelope(
        { id: `${tag}${i}:anomaly:${channel}:0`, type: "anomaly", src: "h", ts: at[i]! },
        { channel, score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
      ),
    )
  );
  await bus.flush();
  return t0;
}

test("a collab server started after an incident opened lists it in its history answers", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-incident-seed-");
  const bus = await NatsBus.connect(nats.url);
  await ensureFeedStream(bus.nc);
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  let collab: Awaited<ReturnType<typeof launchCollab>> | undefined;
  try {
    const t0 = await crash(bus, ["SYM1", "SYM2"], "a");
    await waitFor(() => stage.stage.list().length === 1, 5_000, "the stage's incident");
    const id = stage.stage.list()[0]!.id;
    collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
    const token = await tokenFor(dir.path, "main", "viewer");
    const query = historyQuery({
      channel: "SYM2",
      t0_us: t0 - 60 * S,
      t1_us: t0 + 60 * S,
      points_max: 100,
    });
    const url = `http://127.0.0.1:${collab.server.port}/history?token=${token}&${query}`;
    let h = decodeHistoryResponse(new Uint8Array(await (await fetch(url)).arrayBuffer()));
    for (let i = 0; h.incidents.length === 0 && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      h = decodeHistoryResponse(new Uint8Array(await (await fetch(url)).arrayBuffer()));
    }
    assert.equal(h.incidents.map((i) => [i.id, i.members.map((m) => m.channel)]), [
      [id, ["SYM1", "SYM2"]],
    ]);
    assert.ok(
      h.incidents_since_us !== null && h.incidents_since_us <= t0,
      `incidents known from ${h.incidents_since_us}, before the incident's start ${t0}`,
    );
    // GET /incidents, what a fresh page's panel starts from: the same log, with the stream's
    // tokens (401 without one).
    const base = `http://127.0.0.1:${collab.server.port}/incidents`;
    const refused = await fetch(base);
    assert.is(refused.status, 401, await refused.text());
    const listed = await fetch(`${base}?token=${token}`);
    assert.is(listed.headers.get("content-type"), "application/msgpack");
    const all = decodeIncidentList(new Uint8Array(await listed.arrayBuffer()));
    assert.equal(all, stage.stage.list());
  } finally {
    await collab?.close();
    stage.stop();
    await bus.close();
    await nats.cleanup();
    dir.remove();
  }
});

test("with no stage answering the log starts empty, says so once, and takes a later stage's list", async () => {
  const nats = await startTestNats();
  const bus = await NatsBus.connect(nats.url);
  const lines: string[] = [];
  const log = new IncidentLog({ nowUs: () => Date.now() * 1000 }).follow(bus);
  const seed = new IncidentSeed(log, bus, {
    timeout_ms: 200,
    retry_ms_min: 20,
    retry_ms_max: 80,
    log: (line) => lines.push(line),
  });
  let stage: { stop(): void } | undefined;
  try {
    seed.ask();
    await waitFor(() => seed.failed >= 3, 5_000, "three asks unanswered");
    assert.is(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, "troupe.req.incidents.list");
    assert.equal(log.all(), []);
    // A stage starts (as a leased one does when its lease is taken), already holding an incident
    // whose updates this log never saw (they went out before it followed the bus): the next ask
    // seeds it.
    const held = new IncidentStage({ config: defaultIncidentConfig, publish: () => {} });
    held.takeFinding({
      id: "f1:anomaly:SYMX:0",
      kind: "anomaly",
      channel: "SYMX",
      ts_us: Date.now() * 1000 - 5 * S,
      severity: 3,
    });
    held.flush(Date.now() * 1000);
    assert.is(held.list().length, 1);
    const other = await NatsBus.connect(nats.url);
    const running = runIncidentStage(other, { config: defaultIncidentConfig, stage: held });
    stage = { stop: () => (running.stop(), void other.close()) };
    await waitFor(() => seed.seeded === 1, 5_000, "the seed from the stage's list");
    assert.equal(log.all().map((i) => [i.id, i.state]), [[
      held.list()[0]!.id,
      held.list()[0]!.state,
    ]]);
    assert.is(lines.length, 1, "said once");
  } finally {
    seed.stop();
    log.close();
    stage?.stop();
    await bus.close();
    await nats.cleanup();
  }
});

test("after a NATS reconnect the server asks again and learns what it missed meanwhile", async () => {
  const nats = await startTestNats();
  let restarted: Awaited<ReturnType<typeof nats.restart>> | undefined;
  const dir = tempDir("troupe-incident-reseed-");
  const watcher = await NatsBus.connect(nats.url);
  let asks = 0;
  watcher.subscribe(incidentListSubject(), () => asks++);
  await watcher.flush();
  // A stage whose updates this server never sees (they go nowhere): only its list tells.
  const held = new IncidentStage({ config: defaultIncidentConfig, publish: () => {} });
  const other = await NatsBus.connect(nats.url);
  const running = runIncidentStage(other, { config: defaultIncidentConfig, stage: held });
  await other.flush();
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
  try {
    await waitFor(() => asks === 1, 5_000, "the ask at start");
    await other.flush(); // the stage has answered it (the ask came before the pong)
    held.takeFinding({
      id: "f1:anomaly:SYMR:0",
      kind: "anomaly",
      channel: "SYMR",
      ts_us: Date.now() * 1000 - 5 * S,
      severity: 3,
    });
    held.flush(Date.now() * 1000);
    const token = await tokenFor(dir.path, "main", "viewer");
    const url = `http://127.0.0.1:${collab.server.port}/incidents?token=${token}`;
    const listed = async () =>
      decodeIncidentList(new Uint8Array(await (await fetch(url)).arrayBuffer())).map((i) => i.id);
    assert.equal(await listed(), [], "seeded before the incident opened");
    restarted = await nats.restart();
    // Only an ask after the reconnect can tell the server of this incident (its updates go
    // nowhere). Counting the asks on the watcher raced its own reconnect (it missed the ask when
    // it resubscribed after it), and an ask before the stage's reconnect waits for the retry: so
    // wait for what the server learns, as long as the retries may take.
    let ids = await listed();
    for (let i = 0; ids.length === 0 && i < 750; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ids = await listed();
    }
    assert.equal(ids, [held.list()[0]!.id]);
    assert.ok(asks >= 1, "the ask at start was seen");
  } finally {
    await collab.close();
    running.stop();
    await other.close();
    await watcher.close();
    await restarted?.stop();
    await nats.cleanup();
    dir.remove();
  }
});

if (run) test.run();
