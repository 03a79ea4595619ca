/**
 * A host's control messages (`troupe.ctl.<kind>[.<key>]`): validated against the kind's current
 * configuration before they reach any journal, then journaled and applied to the instances they
 * address (one key, or every instance of the kind here, and the kind's configuration for
 * instances to come). A request is answered "ok" with what was applied (`ControlApplied`), or
 * "error" with the reason; a bad message is dead-lettered. A host that does not own the partition
 * of the key a message addresses, or runs no actor of its kind, applies nothing and does not
 * answer: with several hosts the request's first answer wins, and it must be the owner's. Unless
 * the request asks every host to answer (`CONTROL_ANSWER_ALL_HEADER`, as `askControl` does): then
 * such a host answers `pass`, saying the kinds it runs or the partition it does not own, so that
 * the requester learns at once that no host runs the kind.
 *
 * Where control messages are kept in a stream (JetStream input), the live subscription only
 * answers, and the host applies what the stream delivers: a message sent while the host was down
 * is applied when it is back, and none is applied twice because it came both ways.
 */
import {
  type AnyActorDefinition,
  type BusMessage,
  ConfigError,
  type ControlAnswer,
  type ControlApplied,
  type ControlPass,
  decodeEnvelope,
  describeControlPass,
  encodeInputRecord,
  type InputRecord,
  isIncidentControlSubject,
  parseSubject,
  ProtocolError,
  wantsEveryAnswer,
} from "../../../protocol/mod.ts";
import { type HostLimits, InputRejectedError, type Pending, type Slot } from "../instances/mod.ts";
import { ControlRefusals } from "./control_refusals.ts";
import type { AppliedChange } from "./settings_reporter.ts";

/** What control handling needs of its host. */
export interface ControlHost {
  kinds: ReadonlyMap<string, AnyActorDefinition>;
  /** Each kind's current configuration. */
  configs: Map<string, unknown>;
  limits: HostLimits;
  /** Whether this host owns the key's partition. */
  owns(key: string): boolean;
  /** The partition of a key. */
  partition(key: string): number;
  slots(): Iterable<Slot>;
  enqueue(def: AnyActorDefinition, key: string, item: Pending): void;
  reply(msg: BusMessage, answer: ControlAnswer): void;
  deadLetter(msg: BusMessage, err: unknown): void;
  /**
   * Counts a refused control message of `kind` ("unknown" for a kind this host does not run).
   */
  refused(kind: string): void;
  /** The refusals already counted here, so that one message is counted once. */
  refusals: ControlRefusals;
  /** Called after a control message was queued: the configuration each instance will have. */
  applied?(changes: AppliedChange[]): void;
}

/** The body of an "ok" answer: what the host applied (protocol/events/control_answer.ts). */
export type { ControlApplied } from "../../../protocol/mod.ts";

/** A validated control message. */
interface Control {
  def: AnyActorDefinition;
  key: string | undefined;
  config: unknown;
  body: unknown;
}

/** Validates a control message; undefined when it is for kinds this host does not run. */
function parseControl(msg: BusMessage, host: ControlHost): Control | undefined {
  const parsed = parseSubject(msg.subject);
  if (parsed.kind !== "ctl") return undefined;
  const envelope = decodeEnvelope(msg.data, host.limits);
  const def = host.kinds.get(parsed.actor);
  if (!def) {
    throw new UnknownKindError(
      `Control message for kind "${parsed.actor}", which this host does not run (it runs ${
        [...host.kinds.keys()].sort().join(", ")
      }): nothing applied`,
      envelope.id,
    );
  }
  // A keyed message changes its instance's settings, which may differ from the kind's already.
  const base = (parsed.key === undefined ? undefined : instanceConfig(host, def, parsed.key)) ??
    host.configs.get(def.kind);
  const config = def.parseConfig(envelope.body, base, `ctl.${def.kind}`);
  return { def, key: parsed.key, config, body: envelope.body };
}

/** The configuration of the running instance `(def.kind, key)` here, or undefined. */
function instanceConfig(host: ControlHost, def: AnyActorDefinition, key: string): unknown {
  for (const slot of host.slots()) {
    if (slot.def === def && slot.key === key && slot.inst !== undefined) return slot.inst.config;
  }
  return undefined;
}

/**
 * Why `msg` is not for this host: it addresses a kind this host does not run, or one key whose
 * partition another host owns. Undefined when it is for this host, or cannot be read (a subject
 * or, for a kind not run here, an envelope: parseControl dead-letters it with the reason, as it
 * did before passes).
 */
function passOf(msg: BusMessage, host: ControlHost): ControlPass | undefined {
  let parsed;
  try {
    parsed = parseSubject(msg.subject);
  } catch {
    return undefined;
  }
  if (parsed.kind !== "ctl") return undefined;
  const runs = () => [...host.kinds.keys()].sort();
  if (!host.kinds.has(parsed.actor)) {
    if (!readable(msg, host)) return undefined;
    return { kind: parsed.actor, runs: runs(), partition: null };
  }
  if (parsed.key === undefined || host.owns(parsed.key)) return undefined;
  return { kind: parsed.actor, runs: runs(), partition: host.partition(parsed.key) };
}

/** Whether `msg`'s envelope can be read (parseControl reads it again, and says why not). */
function readable(msg: BusMessage, host: ControlHost): boolean {
  try {
    decodeEnvelope(msg.data, host.limits);
    return true;
  } catch {
    return false;
  }
}

/** A control message addressed to an instance stopped after repeated failures. */
class TargetStoppedError extends Error {
  override name = "TargetStoppedError";
}

/** A control message for a kind this host does not run (another host's, or no kind at all). */
class UnknownKindError extends Error {
  override name = "UnknownKindError";
  /** The message's envelope id. */
  readonly id: string;
  constructor(message: string, id: string) {
    super(message);
    this.id = id;
  }
}

/** Throws when `ctl` addresses one instance that is stopped: nothing would take it. */
function checkTarget(ctl: Control, host: ControlHost): void {
  if (ctl.key === undefined) return;
  for (const slot of host.slots()) {
    if (slot.def === ctl.def && slot.key === ctl.key && slot.status === "stopped") {
      throw new TargetStoppedError(
        `Actor ${slot.stream} is stopped after repeated failures: nothing applied`,
      );
    }
  }
}

/** Journals and applies a validated control message to the instances it addresses. */
function applyControl(ctl: Control, msg: BusMessage, host: ControlHost): number {
  const { def, key } = ctl;
  if (key === undefined) host.configs.set(def.kind, ctl.config);
  const record: InputRecord = { kind: "ctl", srcPos: 0, subject: msg.subject, payload: msg.data };
  const bytes = encodeInputRecord(record);
  const arrivedMs = performance.now();
  if (key !== undefined) {
    if (!host.owns(key)) return 0;
    host.enqueue(def, key, { record, bytes, decoded: undefined, arrivedMs });
    host.applied?.([{ kind: def.kind, key, config: ctl.config }]);
    return 1;
  }
  const changes: AppliedChange[] = [];
  for (const slot of [...host.slots()]) {
    if (slot.def === def && slot.status !== "stopped") {
      host.enqueue(def, slot.key, { record, bytes, decoded: undefined, arrivedMs });
      changes.push({ kind: def.kind, key: slot.key, config: instanceAfter(ctl, slot) });
    }
  }
  host.applied?.(changes);
  return changes.length;
}

/**
 * The configuration `slot`'s instance will have once it applies kind-wide `ctl`, as it computes it.
 */
function instanceAfter(ctl: Control, slot: Slot): unknown {
  if (slot.inst === undefined) return ctl.config;
  try {
    return ctl.def.parseConfig(ctl.body, slot.inst.config, `ctl.${ctl.def.kind}`);
  } catch {
    return slot.inst.config; // the instance refuses it too, and keeps what it has
  }
}

/** Instances a kind-wide message would reach here now (a kept message is applied later). */
function runningInstances(def: AnyActorDefinition, host: ControlHost): number {
  let n = 0;
  for (const slot of host.slots()) if (slot.def === def && slot.status !== "stopped") n++;
  return n;
}

/**
 * A control message from the live subscription: answered, and applied unless `kept` (the stream
 * delivers it to `onKeptControl`). A refusal is counted once; it is also dead-lettered when it
 * had no one to answer and no stream will deliver it again (core NATS).
 */
export function onLiveControl(msg: BusMessage, host: ControlHost, kept: boolean): void {
  const pass = passOf(msg, host);
  if (pass) {
    // The owner applies (or refuses) and answers; this host says why it does not, when asked.
    if (wantsEveryAnswer(msg.headers)) {
      host.reply(msg, { ok: false, error: describeControlPass(pass), pass });
    }
    // A kind no host may run: with no one answered and no stream to deliver it, the refusal is
    // this host's to count and dead-letter (a key another host owns is no refusal, nor the
    // incident stage's old subject, which old recordings hold).
    if (
      pass.partition === null && !kept && !msg.reply && !isIncidentControlSubject(msg.subject)
    ) {
      refuse(msg, host, unknownKind(msg, host));
    }
    return;
  }
  try {
    const ctl = parseControl(msg, host);
    if (!ctl) return;
    checkTarget(ctl, host);
    const instances = kept
      ? (ctl.key === undefined ? runningInstances(ctl.def, host) : 1)
      : applyControl(ctl, msg, host);
    const applied: ControlApplied = {
      kind: ctl.def.kind,
      key: ctl.key ?? null,
      instances,
      kind_config: ctl.key === undefined,
      via: kept ? "stream" : "now",
      settings: ctl.config,
    };
    host.reply(msg, { ok: true, applied });
  } catch (err) {
    host.reply(msg, { ok: false, error: (err as Error).message });
    if (refusalKind(msg, err, host) === undefined) {
      if (!kept) host.deadLetter(msg, err);
    } else if (msg.reply) {
      // Answered: the sender knows; counted, not a dead letter. The stream passes it over.
      const id = envelopeId(msg, host);
      if (id === undefined || host.refusals.first(id)) host.refused(refusalKind(msg, err, host)!);
    } else if (!kept) {
      refuse(msg, host, err);
    }
  }
}

/** The error of a control message for a kind this host does not run (its envelope is readable). */
function unknownKind(msg: BusMessage, host: ControlHost): UnknownKindError {
  try {
    parseControl(msg, host);
  } catch (err) {
    if (err instanceof UnknownKindError) return err;
  }
  return new UnknownKindError(`Control message on "${msg.subject}": nothing applied`, "");
}

/** The envelope id of a readable control message. */
function envelopeId(msg: BusMessage, host: ControlHost): string | undefined {
  try {
    return decodeEnvelope(msg.data, host.limits).id;
  } catch {
    return undefined;
  }
}

/**
 * Counts and dead-letters the refusal `err` of `msg` (once per message: the live subscription
 * and the stream may both see it), naming the field and the value where the refusal names one.
 */
function refuse(msg: BusMessage, host: ControlHost, err: unknown): void {
  const kind = refusalKind(msg, err, host) ?? "unknown";
  const id = err instanceof UnknownKindError ? err.id : envelopeId(msg, host);
  if (id !== undefined && !host.refusals.first(id)) return;
  host.refused(kind);
  host.deadLetter(msg, refusalLetter(err));
}

/** The error a refused control message is dead-lettered with: its reason, field and value. */
function refusalLetter(err: unknown): unknown {
  const message = (err as Error).message;
  if (err instanceof ConfigError) {
    return new ProtocolError("value", message, { field: err.field, value: err.value });
  }
  if (err instanceof UnknownKindError) {
    return new ProtocolError("value", message, { field: "subject" });
  }
  if (err instanceof TargetStoppedError) return new InputRejectedError("stopped", message);
  return err;
}

/**
 * The kind a control message was refused for, when `err` is a refusal of what it asked (a field
 * or value the kind does not take, an instance that is stopped, a kind not run here: "unknown").
 * Undefined for a message that could not be read (a malformed envelope): a dead letter only.
 */
function refusalKind(msg: BusMessage, err: unknown, host: ControlHost): string | undefined {
  if (err instanceof UnknownKindError) return "unknown";
  if (!(err instanceof ConfigError || err instanceof TargetStoppedError)) return undefined;
  const parsed = parseSubject(msg.subject);
  return parsed.kind === "ctl" && host.kinds.has(parsed.actor) ? parsed.actor : "unknown";
}

/**
 * A control message the stream kept: applied, or dead-lettered when it cannot be read; a refusal
 * not yet counted here (sent with no one to answer, or while this host was down) is counted and
 * dead-lettered. A key whose partition another host owns is that host's.
 */
export function onKeptControl(msg: BusMessage, host: ControlHost): void {
  if (isIncidentControlSubject(msg.subject)) return; // the incident stage's, in old recordings
  const pass = passOf(msg, host);
  if (pass && pass.partition !== null) return; // its key's owner decides
  try {
    const ctl = parseControl(msg, host);
    if (ctl) applyControl(ctl, msg, host);
  } catch (err) {
    if (refusalKind(msg, err, host) === undefined) host.deadLetter(msg, err);
    else refuse(msg, host, err);
  }
}

/** One line saying what an "ok" answer says was applied (older hosts send null: "accepted"). */
export function describeControlApplied(a: ControlApplied | null): string {
  if (!a) return "accepted";
  const target = a.key ? `${a.kind}/${a.key}` : `${a.instances} running ${a.kind} instance(s)`;
  const parts = a.key ? [target] : [target, "the configuration of those to come"];
  const how = a.via === "stream"
    ? "accepted, applied as the control stream delivers it, to"
    : "applied to";
  return `${how} ${parts.join(" and ")}`;
}
