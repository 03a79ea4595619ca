/**
 * A host's metrics kept as plain tallies until the first scrape makes its registry: what was
 * counted before shows then, as does what is counted after, and a watch added either side of it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { HostMetrics } from "../../../../actors/runtime/operations/mod.ts";

const test = suite("host metrics");

test("counts and gauges set before the first scrape show in it, and later ones in the next", async () => {
  const m = new HostMetrics({ host: "h1" });
  m.deadLetters.inc({ reason: "decode" });
  m.deadLetters.inc({ reason: "decode" });
  m.instances.inc({ kind: "stats" });
  m.instances.inc({ kind: "stats" });
  m.instances.dec({ kind: "stats" });
  m.mailbox.set(7);
  m.lag.set({ kind: "stats" }, 0.25);
  m.tally("stats").input(0.001, 2);
  m.watchGaps({ gaps: 3, samples: 40 });
  let text = await m.text();
  assert.match(text, /^troupe_dead_letters_total\{reason="decode",host="h1"\} 2$/m);
  assert.match(text, /^troupe_actor_instances\{kind="stats",host="h1"\} 1$/m);
  assert.match(text, /^troupe_mailbox_depth\{host="h1"\} 7$/m);
  assert.match(text, /^troupe_lag_seconds\{kind="stats",host="h1"\} 0.25$/m);
  assert.match(text, /^troupe_inputs_total\{kind="stats",host="h1"\} 1$/m);
  assert.match(text, /^troupe_input_gaps_total\{host="h1"\} 3$/m);
  assert.match(text, /^troupe_journal_bytes\{host="h1"\} 0$/m);
  // Counted after the registry was made; a watch added after it.
  m.deadLetters.inc({ reason: "decode" });
  m.restarts.inc({ kind: "stats" });
  m.watchChannels(() => ({ admitted: 5, max: 10, refused: 1 }));
  text = await m.text();
  assert.match(text, /^troupe_dead_letters_total\{reason="decode",host="h1"\} 3$/m);
  assert.match(text, /^troupe_actor_restarts_total\{kind="stats",host="h1"\} 1$/m);
  assert.match(text, /^troupe_channels_max\{host="h1"\} 10$/m);
  assert.match(text, /^troupe_channels_free\{host="h1"\} 5$/m);
  const { values } = await m.restarts.get();
  assert.equal(values, [{ labels: { kind: "stats" }, value: 1 }]);
});

test("a counter refuses to go down, naming the metric and the increment", () => {
  const m = new HostMetrics();
  assert.throws(
    () => m.snapshots.inc({ kind: "stats" }, -1),
    (err: Error) => /troupe_snapshots_total.*-1/.test(err.message),
  );
});

test.run();
