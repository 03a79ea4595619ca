/**
 * `troupe bench soak`, short: a real nats-server, a real host killed with SIGKILL and a server
 * restarted on a schedule; no acknowledged frame lost, none journaled twice. (The stall's bound
 * is a figure of the benchmark, and is asserted by tests/actors/runtime/host/nats_outage.test.ts.)
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer } from "../_support/nats.ts";

const test = suite("bench soak");

if (haveNatsServer("bench soak")) {
  test("a short soak with host kills and server restarts loses nothing and doubles nothing", async () => {
    const r = await runTroupe(
      ["bench", "soak", "--minutes", "0.4", "--kill-every", "7", "--restart-every", "10", "--json"],
      { timeoutMs: 180_000 },
    );
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ metric: string; troupe: number }>;
    const fig = (m: string) => rows.find((x) => x.metric === m)!.troupe;
    assert.is(fig("lost"), 0, r.stderr);
    assert.is(fig("doubled"), 0, r.stderr);
    assert.ok(Number.isFinite(fig("stall_s_max")));
    assert.match(r.stderr, "kill -9 the host (3)");
    assert.match(r.stderr, "restart nats-server (2)");
  });
}

test.run();
