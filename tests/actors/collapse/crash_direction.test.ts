/**
 * A crash reads as the change it is: on the market feed with the demo settings (prices are random
 * walks pulled back to their start), every labelled crash collapse finds is reported "down", its
 * level after below its level before. Before, the direction compared the new regime's mean with
 * the whole previous regime's, which a price that rose through its regime and then fell could
 * leave below the fall: a quarter of the crashes read "up".
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { collapseActor } from "../../../actors/mod.ts";
import type { CollapseChange } from "../../../actors/collapse/mod.ts";
import { createMarketFeed } from "../../../sim/feeds/mod.ts";
import { demoActorConfigs } from "../../../sim/mod.ts";

const test = suite("collapse crash direction");
const INTERVAL_US = 10_000;

test("every crash found on the market feed reads down, its level after below its level before", () => {
  const config = collapseActor.parseConfig(
    demoActorConfigs(INTERVAL_US).collapse,
    collapseActor.defaultConfig,
    "collapse",
  );
  const seed = 1;
  const feed = createMarketFeed({
    symbols: 8,
    seed,
    batch: 100,
    volume: false,
    intervalUs: INTERVAL_US,
    crashRate: 2e-4,
  });
  const states = new Map<string, ReturnType<typeof collapseActor.kernel.init>>();
  const changes: Array<CollapseChange & { channel: string }> = [];
  for (let step = 0; step < 400; step++) {
    for (const f of feed.next()) {
      let s = states.get(f.channel);
      if (!s) states.set(f.channel, s = collapseActor.kernel.init(config, f.channel));
      for (const c of collapseActor.kernel.step(s, f).changes) {
        changes.push({ ...c, channel: f.channel });
      }
    }
  }
  const crashes = feed.truth().changePoints.filter((c) => c.kind === "crash");
  const found = crashes.flatMap((cp) => {
    const c = changes.find((c) =>
      c.channel === cp.channel && Math.abs(c.changeTs - cp.time) <= 5 * INTERVAL_US
    );
    return c ? [{ cp, c }] : [];
  });
  assert.ok(found.length >= 50, `seed ${seed}: ${found.length} crashes found`);
  for (const { cp, c } of found) {
    const at = `seed ${seed}, crash on ${cp.channel} at ${new Date(cp.time / 1000).toISOString()}`;
    assert.is(c.direction, "down", `${at}: level ${c.levelBefore} -> ${c.levelAfter}`);
    assert.ok(c.levelAfter < c.levelBefore, at);
  }
});

test.run();
