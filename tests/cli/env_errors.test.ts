/**
 * Environment variables that are wrong are named as what is wrong: a TROUPE_SECRET too short for
 * `troupe token` is one line, not a stack trace; a TROUPE_NATS_SERVER naming no file is said to be
 * the reason `troupe up` runs on the in-process bus, not "nats-server is not on PATH".
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("environment errors");

test("troupe token with a short TROUPE_SECRET says so in one line and exits 1", async () => {
  const r = await runTroupe(["token", "--session", "ops"], { env: { TROUPE_SECRET: "short" } });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /^troupe token: TROUPE_SECRET: /);
  assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.not.match(r.stderr, "    at ");
  assert.is(r.stdout, "");
});

test("troupe up with a TROUPE_NATS_SERVER that names no file says that the variable is why it runs on the in-process bus", async () => {
  const dir = tempDir("troupe-env-errors-");
  try {
    const missing = join(dir.path, "no-such-nats-server");
    const r = await runTroupe([
      "up",
      "--duration",
      "0.5",
      "--channels",
      "2",
      "--data-dir",
      join(dir.path, "up"),
      "--http-port",
      "0",
    ], { env: { TROUPE_NATS_SERVER: missing } });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      `troupe up: no nats-server to start: TROUPE_NATS_SERVER names "${missing}", which does not exist, so everything runs on the in-process bus`,
    );
    assert.not.match(r.stdout, "not on PATH");
  } finally {
    dir.remove();
  }
});

test.run();
