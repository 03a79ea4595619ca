/**
 * A recording made with a user's kinds names their modules and versions in its header, so that
 * `troupe replay --verify` runs them again without being told; a module the header names that is
 * gone is a usage error naming it and saying how to name it instead.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RecordingReader } from "../../sim/recording/mod.ts";
import { ROOT, runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("troupe replay: a recording's own kinds");

test("troupe up --kinds --record names the kinds; replay --verify loads them from the header", async () => {
  const dir = tempDir("troupe-replay-kinds-");
  try {
    // A copy of the example, so that the test can take it away.
    const zscore = join(dir.path, "zscore.ts");
    copyFileSync(join(ROOT, "examples", "zscore", "zscore.ts"), zscore);
    const rec = join(dir.path, "s.rec");
    const up = await runTroupe([
      "up",
      "--no-nats",
      "--duration",
      "1.5",
      "--rate",
      "4000",
      "--channels",
      "4",
      "--data-dir",
      join(dir.path, "up"),
      "--http-port",
      "0",
      "--collab-port",
      "0",
      "--kinds",
      zscore,
      "--record",
      rec,
    ], { timeoutMs: 90_000 });
    assert.is(up.code, 0, up.stdout + up.stderr);
    const header = (await RecordingReader.open(rec)).header;
    assert.equal(header.kinds, [{ module: zscore, kinds: { zscore: 1 } }]);
    assert.is(header.versions?.zscore, 1);
    const recs = await readRecords(rec);
    assert.ok(recs.some((m) => m.subject.startsWith("troupe.out.zscore.")), "zscore outputs");

    const r = await runTroupe(["replay", rec, "--verify", "--json"], { timeoutMs: 90_000 });
    assert.is(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; kinds: string[]; verify: { equal: number } };
    assert.is(out.ok, true, r.stdout);
    assert.ok(out.kinds.includes("zscore"), r.stdout);
    assert.ok(out.verify.equal > 0, r.stdout);

    rmSync(zscore);
    const gone = await runTroupe(["replay", rec, "--verify"]);
    assert.is(gone.code, 2, gone.stderr);
    assert.match(gone.stderr, `Kind module "${zscore}" not found`);
    assert.match(gone.stderr, "name their modules with --kinds");
  } finally {
    dir.remove();
  }
});

test.run();
