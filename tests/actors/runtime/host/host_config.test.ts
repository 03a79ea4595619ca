import { totalmem } from "node:os";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  channelsFitting,
  feedStreamOptions,
  hostHeldBytes,
  memoryBudgetMbDefault,
  parseHostConfig,
} from "../../../../actors/runtime/mod.ts";
import { ConfigError } from "../../../../protocol/mod.ts";

const test = suite("host config");

const ALL = Object.keys(ACTOR_KINDS);

test("every kind runs by default, with its section's fields; a section does not narrow the kinds", () => {
  assert.equal(Object.keys(parseHostConfig({}, ACTOR_KINDS).actors), ALL);
  const c = parseHostConfig({ actors: { anomaly: { threshold: 0.4 } } }, ACTOR_KINDS);
  assert.equal(Object.keys(c.actors), ALL);
  assert.equal(c.actors.anomaly, { threshold: 0.4 });
  assert.equal(c.actors.stats, {});
});

test('"enabled": false turns a kind off; true keeps it; the flag is not passed to the kind', () => {
  const c = parseHostConfig(
    { actors: { coherence: { enabled: false }, stats: { enabled: true, every_samples: 5 } } },
    ACTOR_KINDS,
  );
  assert.equal(Object.keys(c.actors), ALL.filter((k) => k !== "coherence"));
  assert.equal(c.actors.stats, { every_samples: 5 });
});

test("a host fed metrics runs stats and bars, kinds for markets, only where their sections are written", () => {
  const receiver = { port: 9201 };
  const MARKETS = ["stats", "bars"];
  const metrics = parseHostConfig({ remote_write: receiver }, ACTOR_KINDS);
  assert.equal(Object.keys(metrics.actors), ALL.filter((k) => !MARKETS.includes(k)));
  // A section written runs its kind, with its fields; "enabled": false keeps it off.
  const asked = parseHostConfig(
    { remote_write: receiver, actors: { bars: { history_bars: 100 }, stats: {} } },
    ACTOR_KINDS,
  );
  assert.equal(Object.keys(asked.actors), ALL);
  assert.equal(asked.actors.bars, { history_bars: 100 });
  assert.equal(
    Object.keys(
      parseHostConfig(
        { remote_write: receiver, actors: { stats: { every_samples: 9 } } },
        ACTOR_KINDS,
      )
        .actors,
    ),
    ALL.filter((k) => k !== "bars"),
  );
  const off = parseHostConfig(
    { remote_write: receiver, actors: { bars: { enabled: false }, stats: { enabled: false } } },
    ACTOR_KINDS,
  );
  assert.equal(Object.keys(off.actors), ALL.filter((k) => !MARKETS.includes(k)));
  // Its channel limit counts the kinds it runs: a channel of them costs the bars' rings and the
  // stats instance less.
  const fit = (actors: Record<string, unknown>) => {
    const held = hostHeldBytes(actors, ACTOR_KINDS);
    return Math.floor(
      (metrics.limits.memory_budget_mb * 1024 * 1024 - held.fixed) / held.perChannel,
    );
  };
  assert.is(metrics.limits.channels_max, fit(metrics.actors));
  assert.ok(metrics.limits.channels_max > 2 * parseHostConfig({}, ACTOR_KINDS).limits.channels_max);
  // On a machine of 24 GiB, a host fed metrics holds 100,000 channels.
  const held = hostHeldBytes(metrics.actors, ACTOR_KINDS);
  assert.ok(channelsFitting(memoryBudgetMbDefault(24 * 1024 ** 3), held) >= 100_000);
  // A kind's own declaration decides: a user kind for markets is off too, one for any feed runs.
  const mine = (feeds: "any" | "markets") => ({ ...ACTOR_KINDS.stats!, kind: "mine", feeds });
  for (const feeds of ["any", "markets"] as const) {
    const kinds = { ...ACTOR_KINDS, mine: mine(feeds) };
    const c = parseHostConfig({ remote_write: receiver }, kinds);
    assert.is("mine" in c.actors, feeds === "any", feeds);
    assert.ok("mine" in parseHostConfig({}, kinds).actors, feeds);
  }
});

test("a bad enabled flag, an unknown kind or a bad field is refused naming the field", () => {
  const cases: Array<[unknown, string, string]> = [
    [{ coherence: { enabled: "no" } }, "actors.coherence.enabled", 'got "no"'],
    [{ nope: {} }, "actors.nope", "known kinds: stats, anomaly"],
    [{ stats: { every_samples: 0 } }, "actors.stats.every_samples", ">= 1"],
    [{ stats: 5 }, "actors.stats", "object"],
  ];
  for (const [actors, field, text] of cases) {
    try {
      parseHostConfig({ actors }, ACTOR_KINDS);
      assert.unreachable(`${field} accepted`);
    } catch (err) {
      assert.instance(err, ConfigError, String(err));
      assert.is((err as ConfigError).field, field, (err as Error).message);
      assert.match((err as Error).message, text);
    }
  }
});

test("the incidents section is kept as written for the incident stage; a non-object is refused naming it", () => {
  assert.equal(parseHostConfig({}, ACTOR_KINDS).incidents, {});
  const c = parseHostConfig({ incidents: { hold_us: 1_000_000 } }, ACTOR_KINDS);
  assert.equal(c.incidents, { hold_us: 1_000_000 });
  try {
    parseHostConfig({ incidents: 5 }, ACTOR_KINDS);
    assert.unreachable("incidents: 5 accepted");
  } catch (err) {
    assert.instance(err, ConfigError, String(err));
    assert.is((err as ConfigError).field, "incidents");
  }
});

test("every section is read with its defaults kept for the fields it leaves out", () => {
  const c = parseHostConfig({
    host_id: "h-1",
    nats: "nats://127.0.0.1:4222",
    partitions: { count: 8, owned: "0-2,5" },
    input: "jetstream",
    journal: { kind: "jetstream", fsync: "always" },
    snapshots: { every_inputs: 50, min_inputs: 8, max_age_ms: 60_000 },
    http_port: 0,
    output_msg_id: true,
    accept_journal_loss: true,
    limits: { channels_max: 7 },
  }, ACTOR_KINDS);
  const d = parseHostConfig({}, ACTOR_KINDS);
  assert.is(c.host_id, "h-1");
  assert.is(c.data_dir, ".troupe/h-1");
  assert.equal(c.partitions, { count: 8, owned: [0, 1, 2, 5] });
  assert.equal(c.journal, { ...d.journal, kind: "jetstream", fsync: "always", runs: true });
  assert.equal(c.snapshots, {
    ...d.snapshots,
    every_inputs: 50,
    min_inputs: 8,
    max_age_ms: 60_000,
  });
  assert.is(d.snapshots.min_inputs, 5);
  assert.is(d.snapshots.max_age_ms, 300_000);
  assert.equal(c.limits, { ...d.limits, channels_max: 7 });
  assert.is(c.http_port, 0);
  assert.is(c.output_msg_id, true);
  assert.is(c.accept_journal_loss, true);
  assert.equal(Object.keys(c), Object.keys(d));
});

test("the channel limit follows the memory budget, half the machine's memory unless set", () => {
  const d = parseHostConfig({}, ACTOR_KINDS);
  const mb = Math.floor(totalmem() / 2 / 1024 / 1024);
  assert.is(d.limits.memory_budget_mb, mb);
  // Every built-in kind runs unless turned off: a channel of all of them, coherence's group first.
  const all = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, {}]));
  const held = hostHeldBytes(all, ACTOR_KINDS);
  const fit = (budgetMb: number) =>
    Math.floor((budgetMb * 1024 * 1024 - held.fixed) / held.perChannel);
  assert.is(d.limits.channels_max, fit(mb));
  // A machine of 24 GiB: half of it, 12,288 MiB, over a channel's cost for its life.
  assert.is(channelsFitting(memoryBudgetMbDefault(24 * 1024 ** 3), held), fit(12_288));
  const budget = parseHostConfig({ limits: { memory_budget_mb: 960 } }, ACTOR_KINDS).limits;
  assert.equal([budget.memory_budget_mb, budget.channels_max], [960, fit(960)]);
  // A limit written is the limit, whatever the budget.
  const both = parseHostConfig({ limits: { memory_budget_mb: 960, channels_max: 3 } }, ACTOR_KINDS);
  assert.is(both.limits.channels_max, 3);
  assert.is(
    parseHostConfig({ limits: { channels_max: 3 } }, ACTOR_KINDS).limits.memory_budget_mb,
    mb,
  );
});

test("supervision.crash_attempts_max is 2 unless set", () => {
  assert.is(parseHostConfig({}, ACTOR_KINDS).supervision.crash_attempts_max, 2);
  const c = parseHostConfig({ supervision: { crash_attempts_max: 3 } }, ACTOR_KINDS);
  assert.is(c.supervision.crash_attempts_max, 3);
});

test("supervision.isolate_user_kinds is true unless set false", () => {
  assert.is(parseHostConfig({}, ACTOR_KINDS).supervision.isolate_user_kinds, true);
  const c = parseHostConfig({ supervision: { isolate_user_kinds: false } }, ACTOR_KINDS);
  assert.is(c.supervision.isolate_user_kinds, false);
});

test("a leased host waits a tenth of the TTL on a cold start unless partitions.settle_ms is set", () => {
  const leases = (p: Record<string, unknown>) =>
    parseHostConfig(
      { nats: "nats://127.0.0.1:4222", partitions: { owned: "auto", ...p } },
      ACTOR_KINDS,
    )
      .partitions.leases;
  assert.equal(leases({}), { ttl_ms: 10_000, heartbeat_ms: 2_500, settle_ms: 1_000 });
  assert.is(leases({ lease_ttl_ms: 3_000 })?.settle_ms, 300);
  assert.is(leases({ settle_ms: 0 })?.settle_ms, 0, "0: no wait");
  assert.throws(
    () => leases({ lease_ttl_ms: 3_000, settle_ms: 1_600 }),
    (err: Error) => /partitions\.settle_ms/.test(err.message) && /<= 1500/.test(err.message),
  );
});

test("a bad field of any section is refused naming the field and the value", () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ host_id: "a b" }, "host_id", '"a b"'],
    [{ partitions: { count: 4, owned: "9" } }, "partitions.owned", "9"],
    [{ partitions: { count: 0 } }, "partitions.count", ">= 1"],
    [{ journal: { kind: "tape" } }, "journal.kind", "tape"],
    [{ journal: { fsync_interval_ms: 0 } }, "journal.fsync_interval_ms", ">= 1"],
    [{ journal: { runs: "no" } }, "journal.runs", 'true or false, got "no"'],
    [{ snapshots: { every_inputs: 0.5 } }, "snapshots.every_inputs", "integer"],
    [{ snapshots: { size: 1 } }, "snapshots.size", "size"],
    [{ snapshots: { min_inputs: 0 } }, "snapshots.min_inputs", ">= 1, got 0"],
    [{ snapshots: { min_inputs: 2.5 } }, "snapshots.min_inputs", "integer"],
    [{ snapshots: { max_age_ms: -1 } }, "snapshots.max_age_ms", ">= 0, got -1"],
    [{ limits: { mailbox_max: 0 } }, "limits.mailbox_max", ">= 1"],
    [{ limits: { memory_budget_mb: 0.5 } }, "limits.memory_budget_mb", "integer"],
    [{ limits: { frame_bytes_max: 1e20 } }, "limits.frame_bytes_max", "<= 67108864"],
    [{ journal: { kind: "jetstream" } }, "journal.kind", 'no "nats" URL'],
    [{ input: "jetstream" }, "input", 'no "nats" URL'],
    [{ http_port: 70000 }, "http_port", "<= 65535"],
    [{ supervision: { crash_attempts_max: 1 } }, "supervision.crash_attempts_max", ">= 2, got 1"],
    [{ supervision: { retries: 1 } }, "supervision.retries", "retries"],
    [
      { supervision: { isolate_user_kinds: "yes" } },
      "supervision.isolate_user_kinds",
      'true or false, got "yes"',
    ],
  ];
  for (const [raw, field, text] of cases) {
    try {
      parseHostConfig(raw, ACTOR_KINDS);
      assert.unreachable(`${field} accepted`);
    } catch (err) {
      assert.instance(err, ConfigError, String(err));
      assert.is((err as ConfigError).field, field, (err as Error).message);
      assert.match((err as Error).message, text);
    }
  }
});

test('with NATS the input is JetStream unless the file says "core"; --nats fills in a file\'s missing URL', () => {
  const url = "nats://127.0.0.1:4222";
  assert.is(parseHostConfig({}, ACTOR_KINDS).input, "core");
  assert.is(parseHostConfig({ nats: url }, ACTOR_KINDS).input, "jetstream");
  assert.is(parseHostConfig({ nats: { url } }, ACTOR_KINDS).input, "jetstream");
  assert.is(parseHostConfig({ nats: url, input: "core" }, ACTOR_KINDS).input, "core");
  const flagged = parseHostConfig({}, ACTOR_KINDS, { nats: url });
  assert.equal([flagged.nats, flagged.input], [url, "jetstream"]);
  const over = parseHostConfig({ nats: "nats://10.0.0.1:4222", input: "jetstream" }, ACTOR_KINDS, {
    nats: url,
  });
  assert.equal([over.nats, over.input], [url, "jetstream"]);
  const journal = parseHostConfig({ journal: { kind: "jetstream" } }, ACTOR_KINDS, { nats: url });
  assert.is(journal.journal.kind, "jetstream");
  const withCreds = parseHostConfig({}, ACTOR_KINDS, {
    nats: "nats://ops:Pw-secret@127.0.0.1:4222",
  });
  assert.equal([withCreds.nats, withCreds.nats_auth], [url, {
    user: "ops",
    password: "Pw-secret",
  }]);
});

test("nats takes credentials: its fields, or a user and password in the URL, which then shows none", () => {
  const c = parseHostConfig({
    nats: {
      url: "nats://ops:Pw-secret@127.0.0.1:4222",
      creds: "/etc/troupe/host.creds",
      ca: "ca.pem",
    },
  }, ACTOR_KINDS);
  assert.is(c.nats, "nats://127.0.0.1:4222");
  assert.equal(c.nats_auth, {
    user: "ops",
    password: "Pw-secret",
    creds: "/etc/troupe/host.creds",
    ca: "ca.pem",
  });
  const token = parseHostConfig({ nats: "nats://Tk-secret@h:4222,nats://g:4222" }, ACTOR_KINDS);
  assert.is(token.nats, "nats://h:4222,nats://g:4222");
  assert.equal(token.nats_auth, { token: "Tk-secret" });
  assert.equal(parseHostConfig({ nats: "nats://h:4222" }, ACTOR_KINDS).nats_auth, {});
  try {
    parseHostConfig({ nats: { url: "nats://h:4222", password: 12 } }, ACTOR_KINDS);
    assert.unreachable("a numeric password accepted");
  } catch (err) {
    assert.is((err as ConfigError).field, "nats.password");
    assert.match((err as Error).message, 'Field "nats.password" must be a non-empty string');
  }
  // A malformed URL with credentials is named without them.
  try {
    parseHostConfig({ nats: "http://ops:Pw-secret@h/x" }, ACTOR_KINDS);
    assert.unreachable("an http URL accepted");
  } catch (err) {
    assert.match((err as Error).message, 'got "http://ops:***@h/x"');
    assert.not.match((err as Error).message, "Pw-secret");
  }
});

test("nats is a URL, or { url, replicas }: replicas 1 to 5 for every stream and bucket, 1 by default", () => {
  const url = "nats://127.0.0.1:4222";
  assert.equal(pick(parseHostConfig({ nats: url }, ACTOR_KINDS)), { nats: url, replicas: 1 });
  const c = parseHostConfig({ nats: { url, replicas: 3 } }, ACTOR_KINDS);
  assert.equal(pick(c), { nats: url, replicas: 3 });
  assert.equal(pick(parseHostConfig({ nats: { url } }, ACTOR_KINDS)), { nats: url, replicas: 1 });
  assert.equal(pick(parseHostConfig({}, ACTOR_KINDS)), { nats: undefined, replicas: 1 });
  const cases: Array<[unknown, string, string]> = [
    [{ url, replicas: 7 }, "nats.replicas", 'Field "nats.replicas" must be <= 5, got 7'],
    [{ url, replicas: 0 }, "nats.replicas", "got 0"],
    [{ url, replicas: 2.5 }, "nats.replicas", "integer, got 2.5"],
    [{ replicas: 3 }, "nats.url", "missing"],
    [{ url: "http://x/y", replicas: 3 }, "nats.url", 'got "http://x/y"'],
    [{ url, replica: 3 }, "nats.replica", "replica"],
    [5, "nats", "got 5"],
  ];
  for (const [nats, field, text] of cases) {
    try {
      parseHostConfig({ nats }, ACTOR_KINDS);
      assert.unreachable(`${JSON.stringify(nats)} accepted`);
    } catch (err) {
      assert.instance(err, ConfigError, String(err));
      assert.is((err as ConfigError).field, field, (err as Error).message);
      assert.match((err as Error).message, text);
    }
  }
});

test("nats.feed_max_bytes and feed_max_age_s size the feed stream; unset, they are not passed", () => {
  const url = "nats://127.0.0.1:4222";
  const unset = { replicas: 1 };
  assert.equal(feedStreamOptions(parseHostConfig({}, ACTOR_KINDS)), unset);
  assert.equal(feedStreamOptions(parseHostConfig({ nats: url }, ACTOR_KINDS)), unset);
  assert.equal(
    feedStreamOptions(parseHostConfig({ nats: { url, feed_max_age_s: 600 } }, ACTOR_KINDS)),
    { replicas: 1, maxAgeMs: 600_000 },
  );
  const sized = { url, replicas: 3, feed_max_bytes: 8 * 2 ** 30, feed_max_age_s: 86_400 };
  assert.equal(feedStreamOptions(parseHostConfig({ nats: sized }, ACTOR_KINDS)), {
    replicas: 3,
    maxBytes: 8 * 2 ** 30,
    maxAgeMs: 86_400_000,
  });
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ feed_max_bytes: 1000 }, "nats.feed_max_bytes", "must be >= 1048576, got 1000"],
    [{ feed_max_bytes: "1G" }, "nats.feed_max_bytes", '"1G"'],
    [{ feed_max_age_s: 10 }, "nats.feed_max_age_s", "must be >= 60, got 10"],
    [{ feed_max_age_s: 1.5 }, "nats.feed_max_age_s", "integer, got 1.5"],
  ];
  for (const [extra, field, text] of cases) {
    try {
      parseHostConfig({ nats: { url, ...extra } }, ACTOR_KINDS);
      assert.unreachable(`${JSON.stringify(extra)} accepted`);
    } catch (err) {
      assert.instance(err, ConfigError, String(err));
      assert.is((err as ConfigError).field, field, (err as Error).message);
      assert.match((err as Error).message, text);
    }
  }
});

function pick(c: { nats: string | undefined; replicas: number }) {
  return { nats: c.nats, replicas: c.replicas };
}

test.run();
