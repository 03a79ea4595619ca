/**
 * The fold of an actor instance's journal: how one journaled input changes the instance being
 * rebuilt from it. An instance's state is the fold of its journal, and there is one fold, used by
 * the host both when it recovers every instance at start and when it rebuilds one that failed.
 *
 * An `init` record starts a fresh instance from the configuration it holds (the first record of
 * every stream); a `skip` or `void` record, an input a skip record names, or a position a void
 * record voids, is consumed without being applied; anything else is applied through the
 * instance's kernel and machine.
 */
import {
  type AnyActorDefinition,
  decodeEnvelope,
  type InputRecord,
} from "../../../protocol/mod.ts";
import { ActorInstance, type Output, streamOf } from "./actor_instance.ts";
import type { DecodedFrame } from "./frame_decoder.ts";

/** One journaled input to fold. */
export interface FoldInput {
  /** Its journal position. */
  pos: number;
  record: InputRecord;
  /** Decodes a journaled frame ahead of the instance (undefined: the instance decodes it). */
  decode?: (record: InputRecord) => DecodedFrame | undefined;
  /** A skip record named it: consume it without applying it. */
  skipped?: boolean;
  /** A void record voids its position: consume it without applying it, and without taking its
   *  source position (the input gives it again; see recovery.ts). */
  voided?: boolean;
  /** Whether to encode the outputs (to publish them) or only change the state (replay). */
  outputs: boolean;
}

/** What folding one input gave: the instance after it, and its outputs when it was applied. */
export interface FoldResult {
  inst: ActorInstance;
  /**
   * The outputs of an applied input (empty when `outputs` was false); undefined when not applied.
   */
  outputs: Output[] | undefined;
}

/** A journal whose stream does not start with its instance's configuration. */
export class MissingInitError extends Error {
  override name = "MissingInitError";
  readonly stream: string;
  readonly pos: number;

  constructor(stream: string, pos: number) {
    super(`${stream}: journal has no starting configuration before ${pos}`);
    this.stream = stream;
    this.pos = pos;
  }
}

const REPLAY = { outputs: false } as const;

/**
 * Folds the journaled input `input` into `inst`, the instance of `(def.kind, key)` rebuilt so far
 * (undefined before its stream's first record). Throws what applying throws (an ApplyError), and
 * MissingInitError where an input comes before any `init` record.
 */
export function foldInput(
  def: AnyActorDefinition,
  key: string,
  inst: ActorInstance | undefined,
  input: FoldInput,
): FoldResult {
  const { pos, record } = input;
  if (input.voided && inst) {
    inst.skip(pos, 0);
    return { inst, outputs: undefined };
  }
  if (record.kind === "init") {
    const fresh = ActorInstance.create(def, key, decodeEnvelope(record.payload).body);
    fresh.skip(pos, 0);
    return { inst: fresh, outputs: undefined };
  }
  if (!inst) throw new MissingInitError(streamOf(def.kind, key), pos);
  if (record.kind === "void") {
    inst.skip(pos, 0);
    return { inst, outputs: undefined };
  }
  if (record.kind === "skip" || input.skipped) {
    inst.skip(pos, record.srcPos);
    return { inst, outputs: undefined };
  }
  const decoded = record.kind === "frame" ? input.decode?.(record) : undefined;
  const outputs = inst.apply(record, pos, decoded, input.outputs ? undefined : REPLAY);
  return { inst, outputs };
}
