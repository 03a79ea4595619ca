/**
 * The incident stage across restarts: the findings a stage takes are journaled, in the order it
 * took them, in a journal of its own (stream `incidents`), and a stage that starts over one
 * refolds them before it takes anything new. The kernel is a pure fold of its findings in the
 * order taken, so the rebuilt stage holds exactly the incidents (ids, states, members, update
 * numbers, counts) it held before the restart; the updates of the refold were published before,
 * so they are not published again. What the journal holds are the actors' own finding envelopes,
 * byte for byte, so a journal can be read back as the findings it recorded.
 */
import type { Bus } from "../../protocol/mod.ts";
import type { Journal } from "../runtime/mod.ts";
import {
  incidentFindingOf,
  IncidentStage,
  type IncidentStageOptions,
  runIncidentStage,
} from "./incident_stage.ts";

/** The stream of the stage's journal that holds its findings. */
export const INCIDENT_JOURNAL_STREAM = "incidents";

/** What a journaled stage is given: the stage's options and its journal. */
export interface JournaledIncidentStageOptions extends Omit<IncidentStageOptions, "publish"> {
  /** The stage's own journal (a file journal under the host's data directory). */
  journal: Journal;
  /** Called when an append fails (the journal then refuses more; the stage runs on). */
  onError?: (err: unknown) => void;
}

/** A running stage rebuilt from its journal. */
export interface JournaledIncidentStage {
  stage: IncidentStage;
  /** Findings refolded from the journal at start. */
  restored: number;
  stop: () => void;
}

/**
 * Rebuilds a stage from `options.journal` (publishing nothing), then runs it on `bus` as
 * runIncidentStage does, journaling each finding before the stage takes it.
 */
export async function runJournaledIncidentStage(
  bus: Bus,
  options: JournaledIncidentStageOptions,
): Promise<JournaledIncidentStage> {
  const { journal, onError, ...stageOptions } = options;
  let restoring = true;
  const stage = new IncidentStage({
    ...stageOptions,
    publish: (subject, data) => {
      if (!restoring) bus.publish(subject, data);
    },
  });
  let restored = 0;
  for await (const r of journal.read(INCIDENT_JOURNAL_STREAM)) {
    const f = incidentFindingOf(r.data);
    if (!f) continue; // a journal holds only findings; anything else was never taken
    stage.takeFinding(f);
    restored++;
  }
  restoring = false;
  const record = (data: Uint8Array) => {
    try {
      const pos = journal.append(INCIDENT_JOURNAL_STREAM, data);
      if (pos instanceof Promise) pos.catch((err) => onError?.(err));
    } catch (err) {
      onError?.(err);
    }
  };
  const run = runIncidentStage(bus, { ...stageOptions, stage, record });
  return { stage, restored, stop: run.stop };
}
