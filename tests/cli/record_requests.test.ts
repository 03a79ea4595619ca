import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import {
  ALL_SUBJECTS,
  BusRequestError,
  incidentListSubject,
  RECORDED_SUBJECTS,
} from "../../protocol/mod.ts";
import { RecordingReader } from "../../sim/recording/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe record and requests");
const dir = tempDir("troupe-record-req-");
const hasNats = haveNatsServer("troupe record against nats-server");
let nats: Awaited<ReturnType<typeof startTestNats>> | undefined;

test.before(async () => {
  if (hasNats) nats = await startTestNats();
});

test.after(async () => {
  await nats?.cleanup();
  dir.remove();
});

/**
 * Runs `troupe record` (with `args`) and, while it records, asks on the incident stage's list with
 * no stage running; returns the error the ask failed with and the recording's header subjects.
 */
async function askWhileRecording(
  name: string,
  args: string[],
): Promise<{ err: unknown; subjects: string }> {
  const path = join(dir.path, `${name}.rec`);
  const rec = startTroupe(["record", "--out", path, "--nats", nats!.url, ...args]);
  await rec.waitFor("Ctrl-C to stop");
  const bus = await NatsBus.connect(nats!.url, { name: "record-requests-test" });
  let err: unknown;
  try {
    await bus.request(incidentListSubject(), new Uint8Array(), { timeout: 2000 });
  } catch (e) {
    err = e;
  } finally {
    await bus.close();
  }
  rec.signal("SIGINT");
  assert.is(await rec.exited, 0, rec.output());
  return { err, subjects: (await RecordingReader.open(path)).header.subjects };
}

test("troupe record leaves the requests alone: an ask no one answers is told so at once", async () => {
  if (!nats) return;
  const { err, subjects } = await askWhileRecording("plain", []);
  assert.instance(err, BusRequestError);
  assert.ok((err as BusRequestError).noResponders, `no responders, got ${String(err)}`);
  assert.is(subjects, RECORDED_SUBJECTS.join(","));
  assert.not.ok(subjects.split(",").includes(ALL_SUBJECTS));
});

test("troupe record --subjects troupe.> records the requests too, as asked: the ask is taken", async () => {
  if (!nats) return;
  const { err, subjects } = await askWhileRecording("all", ["--subjects", ALL_SUBJECTS]);
  assert.instance(err, BusRequestError);
  assert.not.ok((err as BusRequestError).noResponders, "the recorder took it, so it timed out");
  assert.is(subjects, ALL_SUBJECTS);
});

if (hasNats) test.run();
