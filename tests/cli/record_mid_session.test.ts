/**
 * `troupe record` started in the middle of a `troupe up` session: the recording carries the
 * actors' state at its start, so `troupe replay --verify` reproduces every output after it byte
 * for byte, and says what it did not compare and why.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { RecordingReader } from "../../sim/recording/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe record mid-session");
const dir = tempDir("troupe-record-mid-");
test.after(() => dir.remove());

/** A `troupe up` session with `extra` options, recorded mid-session from `hosts` hosts at least. */
async function midSession(name: string, extra: string[], hosts: number): Promise<void> {
  const cwd = join(dir.path, name);
  mkdirSync(cwd, { recursive: true });
  const up = startTroupe(
    upArgs(join(cwd, ".troupe"), [
      "--channels",
      "4",
      "--rate",
      "2000",
      "--duration",
      "60",
      ...extra,
    ]),
    cwd,
  );
  const path = join(cwd, "mid.rec");
  try {
    await up.waitFor("injecting the synthetic market feed", 30_000);
    await new Promise((r) => setTimeout(r, 2000)); // the actors are well past their start
    const rec = await runTroupe(["record", "--out", path, "--duration", "2"], { cwd });
    assert.is(rec.code, 0, rec.stdout + rec.stderr);
    const said = rec.stderr.match(
      /the actors' state at the start: (\d+) instances from (\d+) hosts/,
    );
    assert.ok(said, rec.stderr);
    assert.ok(Number(said![1]) > 0, rec.stderr);
    assert.ok(Number(said![2]) >= hosts, rec.stderr);
  } finally {
    up.signal("SIGINT");
    await up.exited;
  }
  const reader = await RecordingReader.open(path);
  assert.ok(reader.start, "the recording has a start section");
  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.not.match(r.stdout, "MISMATCH");
  assert.match(r.stdout, /verified: [1-9][\d,]* outputs equal to the recorded ones, byte for byte/);
  assert.match(
    r.stdout,
    /the recording began mid-session: [1-9][\d,]* actor instances loaded from its start state/,
  );
  assert.match(r.stdout, /[\d,]+ recorded outputs caused by inputs before it were not compared/);
}

if (haveNatsServer("troupe record mid-session against troupe up's nats-server")) {
  test("a recording started mid-session replays and verifies byte for byte", async () => {
    await midSession("one", ["--threads", "1"], 1);
  });

  test("with the host's partitions on two threads, each thread answers for its own", async () => {
    await midSession("threads", ["--threads", "2"], 2);
  });

  test("with two hosts sharing the partitions by lease, each partition's host answers for its own", async () => {
    await midSession("leased", ["--hosts", "2"], 2);
  });
}

test.run();
