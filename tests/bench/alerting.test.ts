/**
 * `troupe bench alerting`, short: findings published as hosts publish them reach the incident
 * stage, fire, and are listed by a real Alertmanager, across Alertmanager restarts and a SIGKILL of
 * the stage's host; none lost, none in the wrong state at the end. (A bench that published its
 * findings where the stage no longer reads them listed none and reported every alert lost.)
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { haveAlertmanager } from "../_support/alertmanager.ts";

const NAME = "bench alerting";
const test = suite(NAME);

if (haveNatsServer(NAME) && haveAlertmanager(NAME)) {
  test("ten crashes are each listed by Alertmanager, through its restarts and a host kill", async () => {
    const r = await runTroupe(["bench", "alerting", "--crashes", "10", "--json"], {
      timeoutMs: 180_000,
    });
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ metric: string; troupe: number }>;
    const fig = (m: string) => rows.find((x) => x.metric === m)!.troupe;
    assert.is(fig("alerts_lost"), 0, r.stderr);
    assert.is(fig("alerts_wrong_state"), 0, r.stderr);
    assert.ok(Number.isFinite(fig("alert_ms_p50")), r.stderr);
    assert.match(r.stderr, "10 crashes: Alertmanager listed 10, the watch stream showed 10");
    assert.match(r.stderr, "the host killed with SIGKILL and started again");
  });
}

test.run();
