/**
 * What a channel costs for its life (channel_budget.ts): what every channel costs a host and what
 * each kind it runs holds for it (`heldBytes`), a group kind's groups off the budget first. The
 * bars kind counts its rings full: a bars state fed until every ring is full holds that many bytes
 * of bars (a scraped metric's less, its one-second ring narrow), and saves every ring as seven
 * columns.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  barsActor,
  barsRingBytes,
  type BarsState,
  defaultBarsConfig,
} from "../../../../actors/bars/mod.ts";
import { coherenceGroupBytes, defineKind, MACHINERY_BYTES } from "../../../../actors/kind/mod.ts";
import {
  CHANNEL_SHARED_BYTES,
  channelsFitting,
  hostHeldBytes,
  parseHostConfig,
  UNDECLARED_KIND_BYTES,
} from "../../../../actors/runtime/mod.ts";
import { ConfigError } from "../../../../protocol/mod.ts";

const test = suite("channel budget");

/** A bars state fed 501 days of a sample each half hour, then two days of one each 15 s, then
 *  `ticks` samples half a second apart: every ring full, each size's last 500 bars of several
 *  samples but the one-second bars unless ticks came. */
function fedForLife(ticks: number): BarsState {
  const kernel = barsActor.kernel;
  const state = kernel.init(defaultBarsConfig, "c") as BarsState;
  const slow = 501 * 48, fast = 2 * 24 * 240, n = slow + fast + ticks;
  const t0 = Date.UTC(2024, 0, 1) * 1000;
  const tFast = t0 + slow * 1800e6;
  const tTicks = tFast + fast * 15e6;
  const t = Float64Array.from(
    { length: n },
    (_, i) =>
      i < slow
        ? t0 + i * 1800e6
        : i < slow + fast
        ? tFast + (i - slow) * 15e6
        : tTicks + (i - slow - fast) * 0.5e6,
  );
  const v = Float64Array.from({ length: n }, (_, i) => i % 7);
  kernel.step(state, { channel: "c", seq0: 0, t, v });
  return state;
}

const heldBytes = (state: BarsState) =>
  state.sizes.reduce((sum, size) => sum + size.ring.byteLength + size.meta.byteLength, 0);

test("a bars instance counts its rings full, as a channel sampled faster than 1/s holds them", () => {
  const { bar_sizes, history_bars } = defaultBarsConfig;
  const full = bar_sizes.length * barsRingBytes(history_bars);
  assert.is(full, bar_sizes.length * (12 + history_bars * 7) * 8);
  assert.equal(barsActor.heldBytes!(defaultBarsConfig), {
    perChannel: MACHINERY_BYTES.bars + full,
    fixed: 0,
  });
  // Ticks two a second for 600 s: the one-second ring's last 500 bars of two samples each.
  const ticked = fedForLife(1200);
  assert.is(heldBytes(ticked), full);
  const saved = barsActor.kernel.save(ticked).length;
  assert.ok(saved >= full && saved < full + 64, `${saved} bytes`);
  // Fewer bars kept, fewer bytes counted.
  const short = barsActor.heldBytes!({ ...defaultBarsConfig, history_bars: 100 }).perChannel;
  assert.is(short, MACHINERY_BYTES.bars + 5 * barsRingBytes(100));
});

test("a scraped metric's rings hold less once full: its one-second bars in two columns", () => {
  const { bar_sizes, history_bars } = defaultBarsConfig;
  const scraped = fedForLife(0);
  const narrow = (2 + (bar_sizes.length - 1) * 7) * history_bars * 8 + bar_sizes.length * 12 * 8;
  assert.is(heldBytes(scraped), narrow);
  // Saved as seven columns all the same: a snapshot does not depend on the ring's width.
  const saved = barsActor.kernel.save(scraped).length;
  const full = bar_sizes.length * barsRingBytes(history_bars);
  assert.ok(saved >= full && saved < full + 64, `${saved} bytes`);
});

/** Every built-in kind enabled with its defaults, as a host configuration holds them. */
const ALL = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, {}]));

test("a host's channel counts what every channel costs and each kind it runs; groups are fixed", () => {
  const held = hostHeldBytes(ALL, ACTOR_KINDS);
  let perChannel = CHANNEL_SHARED_BYTES;
  for (const def of Object.values(ACTOR_KINDS)) {
    perChannel += def.heldBytes!(def.defaultConfig).perChannel;
  }
  assert.equal(held, { perChannel, fixed: coherenceGroupBytes(1024) });
  // Without bars, a channel costs its rings and machinery less.
  const { bars: _, ...noBars } = ALL;
  const barsBytes = barsActor.heldBytes!(defaultBarsConfig).perChannel;
  assert.is(hostHeldBytes(noBars, ACTOR_KINDS).perChannel, perChannel - barsBytes);
  // Coherence's groups: one of every channel when none is configured, else each configured one,
  // at its cap where a prefix names its members, at the channels it names where it names them.
  const groups = {
    coherence: { groups: { a: ["a_*"], b: ["b_*"], c: ["c1", "c2", "c3"] }, channels_max: 64 },
  };
  assert.equal(hostHeldBytes(groups, ACTOR_KINDS), {
    perChannel: CHANNEL_SHARED_BYTES,
    fixed: 2 * coherenceGroupBytes(64) + coherenceGroupBytes(3),
  });
});

test("the budget holds its fixed bytes first, then channels at their cost", () => {
  const held = { perChannel: 100_000, fixed: 24 * 1024 * 1024 };
  assert.is(channelsFitting(1024, held), Math.floor(1000 * 1024 * 1024 / 100_000));
  assert.is(channelsFitting(16, held), 1);
});

test("a kind that does not say what it holds counts as troupe's largest detector; bad figures are named", () => {
  const kind = (heldBytes?: unknown) =>
    defineKind({
      kind: "mine",
      version: 1,
      config: {},
      findings: [],
      kernel: {
        init: () => ({}),
        step: () => ({}),
        save: () => new Uint8Array(0),
        load: () => ({}),
      },
      ...(heldBytes === undefined ? {} : { heldBytes: heldBytes as () => never }),
    });
  const undeclared = hostHeldBytes({ mine: {} }, { mine: kind() });
  assert.equal(undeclared, { perChannel: CHANNEL_SHARED_BYTES + UNDECLARED_KIND_BYTES, fixed: 0 });
  assert.is(UNDECLARED_KIND_BYTES, ACTOR_KINDS.anomaly!.heldBytes!({}).perChannel);
  const declared = kind(() => ({ perChannel: 500, fixed: 7 }));
  assert.equal(hostHeldBytes({ mine: {} }, { mine: declared }), {
    perChannel: CHANNEL_SHARED_BYTES + 500,
    fixed: 7,
  });
  const throwing = kind(() => {
    throw new Error("no figure yet");
  });
  assert.throws(
    () => hostHeldBytes({ mine: {} }, { mine: throwing }),
    (e: unknown) =>
      e instanceof ConfigError && /"mine": heldBytes threw .*no figure yet/.test(e.message),
  );
  const bad = kind(() => ({ perChannel: -1, fixed: 0 }));
  try {
    hostHeldBytes({ mine: {} }, { mine: bad });
    assert.unreachable("a negative count of bytes was taken");
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, 'The kind "mine": heldBytes gave perChannel -1');
  }
});

test("a host's default limit follows the kinds it runs", () => {
  const all = parseHostConfig({ limits: { memory_budget_mb: 12_288 } }, ACTOR_KINDS).limits;
  assert.is(all.channels_max, channelsFitting(12_288, hostHeldBytes(ALL, ACTOR_KINDS)));
  const noBars = parseHostConfig(
    { limits: { memory_budget_mb: 12_288 }, actors: { bars: { enabled: false } } },
    ACTOR_KINDS,
  ).limits;
  assert.ok(noBars.channels_max > all.channels_max * 1.5, `${noBars.channels_max}`);
});

test.run();
