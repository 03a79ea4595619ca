/**
 * Metrics read when scraped: each scrape shows what the owner's plain fields hold then, a counter
 * as the total (not added to the previous scrape's), and a labelled one only the series read now.
 */
import { Registry } from "prom-client";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  scrapedCounter,
  scrapedGauge,
  scrapedLabelled,
} from "../../../../actors/runtime/operations/mod.ts";

const test = suite("scraped metrics");

test("a scrape shows the values read then: gauge, counter total, labelled series", async () => {
  const registry = new Registry();
  const state = { open: 2, sent: 10, refused: new Map<string, number>([["expired", 1]]) };
  scrapedGauge(registry, { name: "t_open", help: "open", read: () => state.open });
  scrapedCounter(registry, { name: "t_sent_total", help: "sent", read: () => state.sent });
  scrapedLabelled(registry, "counter", {
    name: "t_refused_total",
    help: "refused",
    label: "reason",
    read: () => state.refused,
  });
  let text = await registry.metrics();
  assert.match(text, /^t_open 2$/m);
  assert.match(text, /^t_sent_total 10$/m);
  assert.match(text, /^t_refused_total\{reason="expired"\} 1$/m);
  state.open = 0;
  state.sent = 12;
  state.refused = new Map([["missing", 3]]);
  text = await registry.metrics();
  assert.match(text, /^t_open 0$/m);
  assert.match(text, /^t_sent_total 12$/m, "the total read, not 10 + 12");
  assert.match(text, /^t_refused_total\{reason="missing"\} 3$/m);
  assert.not.match(text, /reason="expired"/, "a series no longer read is gone");
});

test.run();
