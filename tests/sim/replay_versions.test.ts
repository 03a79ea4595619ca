/**
 * A recording notes each actor kind's version, and `--verify` compares only the kinds it runs at
 * that version: a kind recorded by another version still runs, its outputs are left out of the
 * comparison, and the report says which and why. The recordings here are the format-1 fixture
 * (collapse and coherence) written again with a header that notes versions, and with the recorded
 * collapse outputs dropped: compared, they would be missing from the recording.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { replayReport } from "../../sim/mod.ts";
import { RecordingReader, RecordingWriter, replay } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("replay of a recording made with another version of a kind");
const FIXTURE = fileURLToPath(new URL("./fixtures/format1_events.rec", import.meta.url));
const dir = tempDir("troupe-replay-versions-");

/** The fixture without its recorded collapse outputs, its header noting `versions`. */
async function rewritten(name: string, versions: Record<string, number>): Promise<string> {
  const path = join(dir.path, name);
  const header = (await RecordingReader.open(FIXTURE)).header;
  const w = RecordingWriter.create(path, {
    source: header.source,
    bus: header.bus,
    subjects: header.subjects,
    config: header.config,
    seed: header.seed,
    created_us: header.created_us,
    versions,
  });
  for (const m of await readRecords(FIXTURE)) {
    if (m.subject.startsWith("troupe.out.collapse.")) continue;
    w.append(m.subject, m.tUs, m.data, m.headers);
  }
  w.close();
  return path;
}

const collapse = ACTOR_KINDS.collapse!.version, coherence = ACTOR_KINDS.coherence!.version;

test("the header notes versions: written and read back; older files read as null", async () => {
  const path = await rewritten("noted.rec", { collapse, coherence });
  assert.equal((await RecordingReader.open(path)).header.versions, { collapse, coherence });
  assert.is((await RecordingReader.open(FIXTURE)).header.versions, null);
});

test("a kind recorded by another version runs but is not compared; the others are", async () => {
  const path = await rewritten("older.rec", { collapse: collapse - 1, coherence });
  const coherenceOutputs = (await readRecords(FIXTURE))
    .filter((m) => m.subject.startsWith("troupe.out.coherence.")).length;
  const r = await replay(path, { verify: true });
  assert.equal(r.kinds, ["collapse", "coherence"]);
  assert.equal(r.uncompared, [{
    kind: "collapse",
    reason: `recorded by version ${collapse - 1}, this troupe runs version ${collapse}`,
  }]);
  const v = r.verify!;
  assert.ok(v.ok, JSON.stringify(v));
  assert.is(v.equal, coherenceOutputs);
  const lines = replayReport(r, Infinity).join("\n");
  assert.match(lines, /not compared: collapse's outputs \(recorded by version \d+, this troupe/);
});

test("at the same version, the same recording is compared and its missing outputs found", async () => {
  const path = await rewritten("same.rec", { collapse, coherence });
  const r = await replay(path, { verify: true });
  assert.equal(r.uncompared, []);
  assert.not.ok(r.verify!.ok);
  assert.ok(r.verify!.extra > 0, JSON.stringify(r.verify));
});

test("a recording that notes no versions compares every kind, and says so", async () => {
  const r = await replay(FIXTURE, { verify: true });
  assert.ok(r.verify!.ok);
  assert.not.ok(r.versionsNoted);
  assert.match(replayReport(r, Infinity).join("\n"), /notes no kind versions/);
});

test.after(() => dir.remove());
test.run();
