import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";

const test = suite("troupe up");

function applied(stdout: string): number {
  const m = stdout.match(
    /stopped cleanly: (\d+) samples sent, (\d+) inputs applied, (\d+) outputs/,
  );
  assert.ok(m, stdout);
  return Number(m![2]);
}

test("troupe up --no-nats runs every kind on the in-process bus, says so, and stops cleanly", async () => {
  const dir = tempDir();
  try {
    const r = await runTroupe([
      "up",
      "--no-nats",
      "--duration",
      "3",
      "--channels",
      "4",
      "--data-dir",
      join(dir.path, "d"),
      "--http-port",
      "0",
    ]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, "in-process bus");
    assert.match(r.stdout, "stats, anomaly, collapse, coherence");
    assert.ok(applied(r.stdout) > 20, r.stdout);
  } finally {
    dir.remove();
  }
});

if (haveNatsServer("troupe up")) {
  test("troupe up starts nats-server with JetStream, and a second run recovers the actors", async () => {
    const dir = tempDir();
    try {
      const args = [
        "up",
        "--duration",
        "3",
        "--channels",
        "3",
        "--data-dir",
        join(dir.path, "d"),
        "--http-port",
        "0",
      ];
      const first = await runTroupe(args);
      assert.is(first.code, 0, first.stderr);
      assert.match(first.stdout, "nats-server on nats://127.0.0.1:");
      assert.ok(applied(first.stdout) > 10, first.stdout);
      const second = await runTroupe(args);
      assert.is(second.code, 0, second.stderr);
      // 3 channels x 4 per-channel kinds (stats, anomaly, collapse, bars) + the coherence group
      assert.match(second.stderr, "recovered 13 actor instances");
    } finally {
      dir.remove();
    }
  });
}

test.run();
