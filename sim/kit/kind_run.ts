/**
 * Running a kind the way a host does, in this thread, without a bus or a journal: each frame
 * becomes the journaled input record a host would apply, routed to the instances the kind names,
 * and each instance is troupe's own ActorInstance. What comes out is the bytes a host would
 * publish, so a check on them is a check on what runs live.
 */
import {
  type AnyActorDefinition,
  ctlSubject,
  decodeEnvelope,
  encodeEnvelope,
  encodeFrame,
  feedSubject,
  type InputRecord,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { ActorInstance, decodeSnapshot, encodeSnapshot } from "../../actors/runtime/mod.ts";

/** Frames a kit run takes, at most (a test, not a benchmark). */
export const KIT_FRAMES_MAX = 1_000_000;

/** One message an instance published. */
export interface KitOutput {
  /** The instance, `<kind>/<key>`. */
  stream: string;
  subject: string;
  /** Its event type; undefined for a per-sample columns frame. */
  type: string | undefined;
  /** The envelope's bytes, as published. */
  data: Uint8Array;
}

/** Options of the kit's runs. */
export interface KindRunOptions {
  /** The configuration, over the kind's defaults (checked as a host checks it). */
  config?: unknown;
  /** The feed token of the frames' subjects; default `test`. */
  feed?: string;
  /**
   * Save every instance to snapshot bytes and load it back after every frame: the run then shows
   * whether save and load are exact.
   */
  reload?: boolean;
  /**
   * Configuration changes to send, as `troupe ctl` does: each reaches every instance there is
   * before frame `before` (0-based), and the instances made later start with it.
   */
  controls?: readonly KitControl[];
}

/** A configuration change a kit run sends between frames. */
export interface KitControl {
  /** The index of the frame it comes before. */
  before: number;
  /** The fields that change, as `troupe ctl --set` gives them. */
  change: Record<string, unknown>;
}

/** What one frame produced, in order. */
export interface KindStep {
  /** The frame's 0-based index in the run. */
  frame: number;
  /** What the control changes sent before it published, then what the frame published. */
  outputs: KitOutput[];
}

/**
 * Steps `def` over `frames`, frame by frame, as a host applies them, and returns what each frame
 * published. Input ids are `in-<i>`, so two runs of the same frames publish the same ids.
 */
export function runKind(
  def: AnyActorDefinition,
  frames: Iterable<SampleFrame>,
  options: KindRunOptions = {},
): KindStep[] {
  let config = options.config === undefined
    ? def.defaultConfig
    : def.parseConfig(options.config, def.defaultConfig, `${def.kind} config`);
  const controls = [...options.controls ?? []].sort((a, b) => a.before - b.before);
  let sent = 0;
  const feed = options.feed ?? "test";
  const instances = new Map<string, ActorInstance>();
  const steps: KindStep[] = [];
  let i = 0;
  for (const frame of frames) {
    if (i >= KIT_FRAMES_MAX) {
      throw new RangeError(`runKind() takes at most ${KIT_FRAMES_MAX} frames`);
    }
    const outputs: KitOutput[] = [];
    while (sent < controls.length && controls[sent]!.before <= i) {
      const change = controls[sent]!.change;
      config = def.parseConfig(change, config, `${def.kind} control change ${sent}`);
      const payload = encodeEnvelope({
        id: `ctl-${sent}`,
        type: "config",
        src: "kit",
        ts: frame.t[0] ?? 0,
        body: change,
      });
      const record: InputRecord = {
        kind: "ctl",
        srcPos: 0,
        subject: ctlSubject(def.kind),
        payload,
      };
      for (const [key, inst] of instances) {
        for (const out of inst.apply(record, inst.pos + 1)) {
          outputs.push({
            stream: inst.stream,
            subject: out.subject,
            type: out.type,
            data: out.data,
          });
        }
        if (options.reload) instances.set(key, reloaded(def, key, inst));
      }
      sent++;
    }
    const subject = feedSubject(feed, frame.channel);
    const payload = encodeFrame(frame, { id: `in-${i}`, src: "kit" });
    for (const key of def.route(frame.channel, config)) {
      let inst = instances.get(key);
      if (inst === undefined) {
        inst = ActorInstance.create(def, key, config);
        instances.set(key, inst);
      }
      const record: InputRecord = { kind: "frame", srcPos: i + 1, subject, payload };
      const envelope = decodeEnvelope(payload);
      const pos = inst.pos + 1;
      for (const out of inst.apply(record, pos, { envelope, frame })) {
        outputs.push({
          stream: `${def.kind}/${key}`,
          subject: out.subject,
          type: out.type,
          data: out.data,
        });
      }
      if (options.reload) instances.set(key, reloaded(def, key, inst));
    }
    steps.push({ frame: i, outputs });
    i++;
  }
  for (const inst of instances.values()) inst.stop();
  return steps;
}

/** `inst` saved to snapshot bytes, as a host stores it, and loaded back into a new instance. */
function reloaded(def: AnyActorDefinition, key: string, inst: ActorInstance): ActorInstance {
  const snap = inst.snapshot();
  inst.stop();
  const stream = `${def.kind}/${key}`;
  const bytes = encodeSnapshot({
    stream,
    version: def.version,
    pos: snap.pos,
    machine: snap.machine,
    kernel: snap.kernel,
  });
  const back = decodeSnapshot(bytes);
  return ActorInstance.restore(def, key, { ...snap, machine: back.machine, kernel: back.kernel });
}
