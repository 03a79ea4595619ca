/**
 * The replay's side of a recording begun mid-session: the instances of its start section that the
 * replay loads before the first input (of the kinds replayed, each with the ids its state holds),
 * and what the result says of them.
 */
import type { AnyActorDefinition, CapturedInstance } from "../../protocol/mod.ts";
import { InputIdWindow } from "../../actors/runtime/instances/mod.ts";
import { type RecordingStart, startInstances } from "./recording_start.ts";
import { ReplayError } from "./replay_error.ts";

/** What a replay did with a recording's start section. */
export interface ReplayStart {
  /** Instances loaded from it (of the kinds replayed). */
  instances: number;
  hosts: string[];
  /** Recorded outputs caused by inputs the start state holds: not the replay's to make. */
  outputsBefore: number;
  /** Instances the hosts did not capture (their outputs may differ), with why. */
  missed: Array<{ stream: string; reason: string }>;
  /** Incident updates were not compared: the incident stage's state at the start is not held. */
  incidentsSkipped: boolean;
}

/**
 * The instances of a start section of the kinds replayed, and per instance the ids its state
 * holds; throws a ReplayError for one of another machine version than this troupe's kind.
 */
export function startOf(
  start: RecordingStart,
  kinds: readonly string[],
  registry: Readonly<Record<string, AnyActorDefinition>>,
): {
  instances: Map<string, CapturedInstance>;
  held: Map<string, InputIdWindow>;
} {
  const instances = new Map<string, CapturedInstance>();
  const held = new Map<string, InputIdWindow>();
  for (const [stream, inst] of startInstances(start)) {
    const kind = stream.slice(0, stream.indexOf("/"));
    if (!kinds.includes(kind)) continue;
    const version = registry[kind]!.version;
    if (inst.version !== version) {
      throw new ReplayError(
        `Cannot replay from the recording's start state: ${stream} is of ${kind} version ` +
          `${inst.version}, this troupe's ${kind} is version ${version}`,
      );
    }
    instances.set(stream, inst);
    held.set(stream, InputIdWindow.restoring(inst.ids));
  }
  return { instances, held };
}

/** What the result says of a start section loaded (`started`, of `start`). */
export function startResult(
  start: RecordingStart,
  started: { instances: ReadonlyMap<string, CapturedInstance> },
  outputsBefore: number,
  incidentsSkipped: boolean,
): ReplayStart {
  return {
    instances: started.instances.size,
    hosts: [...new Set(start.parts.map((p) => p.host))],
    outputsBefore,
    missed: start.parts.flatMap((p) => p.missed),
    incidentsSkipped,
  };
}

/** The refusal of a recording begun mid-session replayed into a live cluster. */
export function liveStartRefusal(path: string): ReplayError {
  return new ReplayError(
    `Cannot replay ${path} into a live cluster: it began mid-session, and the actors' state ` +
      "at its start loads only into the replay's own actors (leave out the bus)",
  );
}
