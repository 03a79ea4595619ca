/**
 * An input whose step ran past its deadline on the trials thread, or ended that thread, skipped
 * live, with a later input of its stream journaled meanwhile: that later input is applied after
 * the skip (live, its output published, and the state holds it), and a restart from the journal
 * alone folds the same. Real step trials threads, kind "deadly" (777 never returns, 666 exits).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { registry } from "../../../_support/deadly_registry.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { StepTrials } from "../../../../actors/runtime/host/step_trials.ts";
import type { InputSource } from "../../../../actors/runtime/edge/input_source.ts";
import { decodeDeadLetter } from "../../../../actors/runtime/edge/mod.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { decodeEnvelope, encodeFrame, feedSubject } from "../../../../protocol/mod.ts";

const test = suite("deadline skip");
const DEADLINE_MS = 2000;

/** One-sample frames of `values` on channel `key`, at source positions 1..n. */
function feedOf(key: string, values: number[]): InputSource {
  return {
    start(deliver, resumeAfter) {
      for (let pos = resumeAfter + 1; pos <= values.length; pos++) {
        const t = Float64Array.of(1_700_000_000_000_000 + pos * 1000);
        const data = encodeFrame(
          { channel: key, seq0: pos, t, v: Float64Array.of(values[pos - 1]!) },
          { id: `${key}${pos}`, src: "t" },
        );
        deliver(
          { subject: feedSubject("t", key), data, headers: undefined, reply: undefined },
          pos,
        );
      }
      return Promise.resolve();
    },
    stop: () => Promise.resolve(),
  };
}

/**
 * Feeds `values` to channel "a" of a host whose "deadly" steps are tried on threads, its second
 * step one that does not return (`bad`), and checks what comes out live and after a restart.
 */
async function skippedLive(bad: number, reason: string, error: RegExp): Promise<void> {
  const trials = await StepTrials.start({
    kindsModule: new URL("../../../_support/deadly_registry.ts", import.meta.url),
    kinds: ["deadly"],
    // Room for a good step on a loaded machine (a thread's first step compiles the kind): a
    // good step past it would be skipped too.
    deadlineMs: () => DEADLINE_MS,
    log: () => {},
  });
  const journal = new MemoryJournal();
  const bus = new InProcessBus();
  const outputs: string[] = [];
  bus.subscribe("troupe.out.>", (m) => void outputs.push(decodeEnvelope(m.data).id.split(":")[0]!));
  const letters: string[] = [];
  const errors: string[] = [];
  bus.subscribe("troupe.dlq.>", (m) => {
    const letter = decodeDeadLetter(m.data);
    letters.push(letter.reason);
    errors.push(letter.error);
  });
  const host = (stepTrials?: StepTrials) =>
    new Host({
      hostId: "h",
      bus,
      actors: [registry.deadly!],
      journal,
      snapshots: new MemorySnapshotStore(),
      input: feedOf("a", [1, bad, 3]),
      ...(stepTrials ? { stepTrials } : {}),
      log: () => {},
    });
  const live = host(trials);
  let restarted: Host | undefined;
  try {
    await live.start();
    for (const end = Date.now() + 20_000; outputs.length < 2 || letters.length < 1;) {
      if (Date.now() > end) throw new Error(`Timed out: ${outputs} ${letters}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(letters, [reason]);
    assert.match(errors[0]!, error);
    assert.equal(outputs, ["a1", "a3"], "a3, journaled behind the bad step, applied after it");
    const state = () => live.instance("deadly", "a")!.kernelState;
    assert.equal(state(), { frames: 2 });
    // A restart from the journal alone (no snapshot) folds the same.
    await live.stop();
    restarted = host();
    await restarted.start();
    assert.equal(restarted.instance("deadly", "a")!.kernelState, { frames: 2 });
  } finally {
    await restarted?.stop();
    await live.stop();
    await trials.stop();
  }
}

test("a later input of a step's stream skipped past its deadline is applied after it", async () => {
  await skippedLive(
    777,
    "deadline",
    /^Step of kind "deadly" on key "a" ran past its deadline of 2000 ms on its input at position 3 \(source position 2\): its thread was ended after \d+ ms; skipped$/,
  );
});

test("a step that ends its thread is skipped at once, never run on the host's thread", async () => {
  // Failed instead, its instance's rebuild would apply it here and the process would exit.
  await skippedLive(
    666,
    "crash",
    /^Step of kind "deadly" on key "a" ended its thread \(exit code 70\) on its input at position 3 \(source position 2\); skipped$/,
  );
});

test.run();
