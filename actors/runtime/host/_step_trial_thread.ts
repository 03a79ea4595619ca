/**
 * The step trials' thread (see step_trials.ts): it holds a copy of each instance of a team's kinds
 * and applies each input to the copy before the host applies it, so that a step that never
 * returns hangs this thread, which the host ends, and not the host's. Its copies are made from
 * the host's instances (their snapshots) and kept in step with them: the host hands it every
 * input it is about to apply to them. Private to the host folder.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { ThreadLifecycle } from "../../threads/mod.ts";
import { ActorInstance } from "../instances/mod.ts";
import { loadKindsModule } from "./kinds_module.ts";
import type { KindRegistry } from "./kinds_module.ts";
import type { StepTrialAnswer, StepTrialAsk, StepTrialData } from "./_step_trial_wire.ts";

// Only in a trials worker: a module that imports this one elsewhere starts nothing.
if (!isMainThread && parentPort && (workerData as StepTrialData | undefined)?.stepTrials) {
  void runTrials(parentPort, workerData as StepTrialData);
}

async function runTrials(
  port: NonNullable<typeof parentPort>,
  data: StepTrialData,
): Promise<void> {
  const copies = new Map<string, ActorInstance>();
  let registry: KindRegistry | undefined;
  let loadError: string | undefined;
  // The host ends the thread (it never asks it to stop): the lifecycle only says how it started.
  const life = new ThreadLifecycle(port);
  port.on("message", (ask: StepTrialAsk) => {
    port.postMessage(trial(ask, copies, registry, loadError));
  });
  // Said once the kinds are loaded: a step's time is counted from there. A thread that cannot
  // load them stays, answering each step with why.
  await loadKindsModule(data.kindsModule).then(
    (m) => void (registry = m.registry),
    (err) => void (loadError = (err as Error).message),
  );
  if (loadError === undefined) life.start({});
  else life.fail(loadError);
}

/** Applies `ask`'s input to its copy (made from its snapshot when one comes with it). */
function trial(
  ask: StepTrialAsk,
  copies: Map<string, ActorInstance>,
  registry: KindRegistry | undefined,
  loadError: string | undefined,
): StepTrialAnswer {
  const def = registry?.[ask.kind];
  if (def === undefined) {
    const why = loadError ?? `its kinds module has no kind "${ask.kind}"`;
    return { id: ask.id, error: `Cannot try a step of kind "${ask.kind}": ${why}` };
  }
  const stream = `${ask.kind}/${ask.key}`;
  try {
    if (ask.snapshot !== undefined) {
      copies.get(stream)?.stop();
      copies.set(stream, ActorInstance.restore(def, ask.key, ask.snapshot));
    }
    const copy = copies.get(stream);
    if (copy === undefined) {
      return { id: ask.id, error: `Cannot try a step of ${stream}: no copy of it here` };
    }
    copy.apply(ask.record, ask.pos, undefined, { outputs: false });
    return { id: ask.id };
  } catch (err) {
    // The host's own apply meets the same error (the step is deterministic) and handles it.
    copies.get(stream)?.stop();
    copies.delete(stream);
    return { id: ask.id, error: (err as Error).message ?? String(err) };
  }
}
