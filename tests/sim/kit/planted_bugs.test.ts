/**
 * The test kit catches what it promises, each planted bug with a message that says what to look
 * at: a module that keeps a reference to Math.random or Date.now, draws a value as it loads or
 * counts at module level; a load() that puts back a setting's default; a control change that is
 * not applied or not saved. The walkthrough's own kind passes every check.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { SampleFrame } from "../../../protocol/mod.ts";
import {
  checkControl,
  checkModule,
  checkSaveLoad,
  framesOf,
  KindCheckError,
  offDefaultConfig,
  runKind,
  type Series,
} from "../../../sim/kit/mod.ts";
import { level } from "./_kinds/level.ts";

const test = suite("test kit: planted bugs");

const kinds = (name: string) => new URL(`./_kinds/${name}`, import.meta.url);

/** 500 samples a second apart: a ramp of small steps, a jump of 5 at 300, one of 20 at 400. */
function series(channel = "cpu"): Series {
  const t = Float64Array.from({ length: 500 }, (_, i) => 1.7e15 + i * 1e6);
  const v = Float64Array.from(t, (_, i) =>
    (i >= 300 && i < 310 ? 5 : i === 400 ? 20 : 0) +
    (i % 7) * 0.1);
  return { channel, t, v };
}

const FRAMES: SampleFrame[] = framesOf([series(), series("mem")], 16);

/** The KindCheckError `fn` throws (or rejects with); fails the test when it throws none. */
async function refusal(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, KindCheckError, String(err));
    return (err as Error).message;
  }
  assert.unreachable("the check passed");
  return "";
}

test("the walkthrough's kind passes every check, the module's and the control's included", async () => {
  const good = level("kitlevelok");
  const saved = checkSaveLoad(good, FRAMES);
  assert.equal(saved.offDefault, ["limit"]);
  assert.ok(saved.outputs > 0);
  assert.ok((await checkModule(kinds("level.ts"), FRAMES)).outputs > 0);
  assert.ok(checkControl(good, FRAMES, { change: { limit: 10 } }).outputs > 0);
});

test("offDefaultConfig() moves each setting to a value the kind's parser takes", () => {
  assert.equal(offDefaultConfig(level("kitleveloff")), { config: { limit: 7 }, fields: ["limit"] });
});

test("checkModule() refuses a kernel that calls Math.random or Date.now through a reference its module took", async () => {
  const random = await refusal(() => checkModule(kinds("random_captured.ts"), FRAMES));
  assert.match(random, "random_captured.ts: a kernel calls Math.random through a reference");
  assert.match(random, "const rnd = Math.random");
  const clock = await refusal(() => checkModule(kinds("clock_captured.ts"), FRAMES));
  assert.match(clock, "clock_captured.ts: a kernel calls the wall clock (Date.now) through");
  assert.ok(typeof Date.now() === "number" && Math.random() < 1, "the real ones are back");
});

test("checkModule() refuses a module that draws from Math.random as it loads", async () => {
  const seeded = await refusal(() => checkModule(kinds("seed_at_load.ts"), FRAMES));
  assert.match(seeded, /seed_at_load\.ts reads Math\.random while it loads \(at module level\)/);
  assert.match(seeded, "ctx.random(seq)");
});

test("a module-level counter fails checkSaveLoad() saying the state is kept outside the kernel's", async () => {
  const { default: counter } = await import("./_kinds/counter.ts");
  const message = await refusal(() => checkSaveLoad(counter, FRAMES));
  assert.match(message, "kitcounter: two straight runs of the same frames publish different bytes");
  assert.match(message, "outside what init() returns (a module-level counter");
  assert.not.match(message, "save() writes every field");
});

test("checkSaveLoad() catches a load() that puts back a setting's default, under settings off them", async () => {
  const bug = level("kitlevelload", "load_default");
  // Under the defaults alone the bug cannot show.
  const plain = runKind(bug, FRAMES, { reload: true });
  assert.ok(plain.some((s) => s.outputs.length > 0));
  const message = await refusal(() => checkSaveLoad(bug, FRAMES));
  assert.match(message, "kitlevelload: saving and loading the state changes what it publishes");
  assert.match(message, "under settings off their defaults (limit 7)");
  assert.match(message, "check that load() reads each setting back from the bytes");
});

test("checkControl() catches a change configure() does not apply", async () => {
  const bug = level("kitlevelcfg", "configure_ignored");
  const message = await refusal(() => checkControl(bug, FRAMES, { change: { limit: 10 } }));
  assert.match(
    message,
    'kitlevelcfg: the change {"limit":10} before frame 32 changes nothing it publishes',
  );
  assert.match(message, "check that configure() copies the changed setting into the state");
});

test("checkControl() catches a change save() does not keep", async () => {
  const bug = level("kitlevelsave", "save_drops_limit");
  const message = await refusal(() => checkControl(bug, FRAMES, { change: { limit: 10 } }));
  assert.match(message, 'kitlevelsave: the change {"limit":10} before frame 32 does not survive');
  assert.match(message, "check that save() writes the setting configure() changed");
});

test("runKind() sends a control change to every instance there is and starts later ones with it", () => {
  const good = level("kitlevelctl");
  const cpuOnly = FRAMES.filter((f) => f.channel === "cpu");
  const at = 5;
  const frames = [...cpuOnly.slice(0, at), ...FRAMES.filter((f) => f.channel === "mem")];
  const changed = runKind(good, frames, { controls: [{ before: at, change: { limit: 100 } }] });
  const findings = (steps: typeof changed) =>
    steps.flatMap((s) => s.outputs.filter((o) => o.type === "kitlevelctl_high"));
  // A limit of 100 is above every excess: mem, made after the change, finds nothing.
  assert.is(findings(changed).filter((o) => o.stream === "kitlevelctl/mem").length, 0);
  assert.ok(findings(runKind(good, frames)).some((o) => o.stream === "kitlevelctl/mem"));
});

test('checkControl() says where "at" may be, and checkModule() that it takes a URL', async () => {
  assert.throws(
    () => checkControl(level("kitlevelat"), FRAMES, { change: { limit: 1 }, at: 0 }),
    /"at" must be a frame index from 1 to 63, got 0/,
  );
  try {
    await checkModule("./level.ts", FRAMES);
    assert.unreachable("a path passed");
  } catch (err) {
    assert.instance(err, TypeError);
    assert.match((err as Error).message, "checkModule() takes the module's URL");
  }
});

test.run();
