/**
 * A host's control messages (`troupe.ctl.<kind>[.<key>]`): validated against the kind's current
 * configuration before they reach any journal, then journaled and applied to the instances they
 * address (one key, or every instance of the kind here, and the kind's configuration for
 * instances to come). A request is answered "ok" or with the error; a bad message is dead-lettered.
 *
 * Where control messages are kept in a stream (JetStream input), the live subscription only
 * answers, and the host applies what the stream delivers: a message sent while the host was down
 * is applied when it is back, and none is applied twice because it came both ways.
 */
import {
  type AnyActorDefinition,
  type BusMessage,
  decodeEnvelope,
  parseSubject,
} from "../../protocol/mod.ts";
import type { HostLimits } from "./host_options.ts";
import { encodeInputRecord, type InputRecord } from "./input_record.ts";
import type { Pending, Slot } from "./_slot.ts";

/** What control handling needs of its host. */
export interface ControlHost {
  kinds: ReadonlyMap<string, AnyActorDefinition>;
  /** Each kind's current configuration. */
  configs: Map<string, unknown>;
  limits: HostLimits;
  /** Whether this host owns the key's partition. */
  owns(key: string): boolean;
  slots(): Iterable<Slot>;
  enqueue(def: AnyActorDefinition, key: string, item: Pending): void;
  reply(msg: BusMessage, type: "ok" | "error", body: unknown): void;
  deadLetter(msg: BusMessage, err: unknown): void;
}

/** A validated control message. */
interface Control {
  def: AnyActorDefinition;
  key: string | undefined;
  config: unknown;
}

/** Validates a control message; undefined when it is for kinds this host does not run. */
function parseControl(msg: BusMessage, host: ControlHost): Control | undefined {
  const parsed = parseSubject(msg.subject);
  if (parsed.kind !== "ctl") return undefined;
  const envelope = decodeEnvelope(msg.data, host.limits);
  const def = host.kinds.get(parsed.actor);
  if (!def) return undefined; // another host's kinds
  const config = def.parseConfig(envelope.body, host.configs.get(def.kind), `ctl.${def.kind}`);
  return { def, key: parsed.key, config };
}

/** Journals and applies a validated control message to the instances it addresses. */
function applyControl(ctl: Control, msg: BusMessage, host: ControlHost): void {
  const { def, key } = ctl;
  if (key === undefined) host.configs.set(def.kind, ctl.config);
  const record: InputRecord = { kind: "ctl", srcPos: 0, subject: msg.subject, payload: msg.data };
  const bytes = encodeInputRecord(record);
  const arrivedMs = performance.now();
  if (key !== undefined) {
    if (host.owns(key)) host.enqueue(def, key, { record, bytes, decoded: undefined, arrivedMs });
    return;
  }
  for (const slot of [...host.slots()]) {
    if (slot.def === def && slot.status !== "stopped") {
      host.enqueue(def, slot.key, { record, bytes, decoded: undefined, arrivedMs });
    }
  }
}

/**
 * A control message from the live subscription: answered, and applied unless `kept` (the stream
 * delivers it to `onKeptControl`).
 */
export function onLiveControl(msg: BusMessage, host: ControlHost, kept: boolean): void {
  try {
    const ctl = parseControl(msg, host);
    if (!ctl) return;
    if (!kept) applyControl(ctl, msg, host);
    host.reply(msg, "ok", null);
  } catch (err) {
    if (!kept) host.deadLetter(msg, err);
    host.reply(msg, "error", { error: (err as Error).message });
  }
}

/** A control message the stream kept: applied, or dead-lettered when it is bad. */
export function onKeptControl(msg: BusMessage, host: ControlHost): void {
  try {
    const ctl = parseControl(msg, host);
    if (ctl) applyControl(ctl, msg, host);
  } catch (err) {
    host.deadLetter(msg, err);
  }
}
