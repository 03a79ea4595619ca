/**
 * A host's answer to a control request (`troupe.ctl.<kind>[.<key>]` with a reply subject): `ok`
 * with what it applied, or `error` with the reason it refused. `troupe ctl`, the session bridge
 * (a threshold edited on the page) and `troupe up`'s settings read it through `controlAnswerOf`.
 *
 * A request that carries the header `CONTROL_ANSWER_ALL_HEADER` is answered by every host that
 * takes it, not only by the hosts it is for: a host that runs no actor of the kind, or runs the
 * kind but does not own the partition of the key asked for, answers `pass` with the kinds it runs
 * and that partition. The requester then knows at once that no host runs the kind, instead of
 * waiting its whole timeout (or, at its timeout, that none of those that answered owns the key). A
 * request without the header (an older requester, which takes the first answer as the owner's) is
 * answered as before: by the hosts it is for alone.
 */
import { encodeEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { describeValue, ProtocolError } from "../protocol_error.ts";
import { BodyReader } from "./_body_reader.ts";

/** The envelope types of the answers. */
export const CONTROL_OK_TYPE = "ok";
/** The envelope type of a refusal. */
export const CONTROL_ERROR_TYPE = "error";

/** The envelope type of a pass: the host is not the one the request is for. */
export const CONTROL_PASS_TYPE = "pass";

/** The header a requester sets (to "1") to have every host answer, passes included. */
export const CONTROL_ANSWER_ALL_HEADER = "Troupe-Answer-All";

/**
 * The header of an answer from one thread of a threaded host: the sources (envelope `src`) of all
 * of that host's threads, comma-separated. Each thread applies a kind-wide change to its own
 * instances and answers for them; a requester gathering every answer that has one of them knows
 * whose answers are still to come, and waits for them (up to its timeout) instead of ending at a
 * quiet gap that a loaded thread may overrun. A state capture's answer carries it too
 * (protocol/state_capture.ts), naming hosts by their parts' `host`.
 */
export const CONTROL_ANSWERERS_HEADER = "Troupe-Answerers";

/** The headers of an answer that names `ids` as all who answer beside it. */
export function answerersHeaders(ids: readonly string[]): Record<string, string> {
  return { [CONTROL_ANSWERERS_HEADER]: ids.join(",") };
}

/** The answerers an answer's headers name (none when they name none). */
export function answerersNamed(headers: Readonly<Record<string, string>> | undefined): string[] {
  const list = headers?.[CONTROL_ANSWERERS_HEADER];
  return list ? list.split(",").filter((id) => id !== "") : [];
}

/** How a change is applied: now (journaled and queued), or as the control stream delivers it. */
export const CONTROL_VIA = ["now", "stream"] as const;

/** The body of an "ok" answer: what the host applied. */
export interface ControlApplied {
  kind: string;
  /** The key addressed, or null for every instance of the kind. */
  key: string | null;
  /** Instances here the change was journaled to (kind-wide: those running; none yet is 0). */
  instances: number;
  /** Whether the kind's configuration for instances to come changed (kind-wide changes). */
  kind_config: boolean;
  /** `now`: journaled and queued to the instances; `stream`: accepted, and applied when the
   *  control stream delivers it (JetStream input). */
  via: (typeof CONTROL_VIA)[number];
  /** The configuration in force once applied: the kind's (kind-wide) or the instance's. */
  settings?: unknown;
}

/** The body of a pass: why a host is not the one a control request is for. */
export interface ControlPass {
  /** The kind asked for. */
  kind: string;
  /** The kinds this host runs, sorted. */
  runs: string[];
  /** When the host runs the kind: the partition of the key asked for, which it does not own. */
  partition: number | null;
}

/**
 * An answer: applied (null from older hosts, which said only "ok"), refused with the reason, or
 * passed (`pass` set, `error` saying why in words: the host is not the one the request is for).
 */
export type ControlAnswer =
  | { ok: true; applied: ControlApplied | null }
  | { ok: false; error: string; pass?: ControlPass };

/** "runs no collapse (it runs anomaly, stats)", or "does not own partition 3 of collapse". */
export function describeControlPass(p: ControlPass): string {
  if (p.partition !== null) return `does not own partition ${p.partition} of ${p.kind}`;
  const runs = p.runs.length === 0 ? "no actors" : p.runs.join(", ");
  return `runs no ${p.kind} (it runs ${runs})`;
}

/** Whether a request asked every host to answer (`CONTROL_ANSWER_ALL_HEADER`). */
export function wantsEveryAnswer(headers: Record<string, string> | undefined): boolean {
  return headers?.[CONTROL_ANSWER_ALL_HEADER] === "1";
}

/** Encodes an answer. */
export function encodeControlAnswer(
  meta: Omit<EnvelopeInit, "type" | "body">,
  a: ControlAnswer,
): Uint8Array {
  if (!a.ok && a.pass) {
    const { kind, runs, partition } = a.pass;
    return encodeEnvelope({ ...meta, type: CONTROL_PASS_TYPE, body: { kind, runs, partition } });
  }
  if (!a.ok) return encodeEnvelope({ ...meta, type: CONTROL_ERROR_TYPE, body: { error: a.error } });
  const p = a.applied;
  const body = p === null ? null : {
    kind: p.kind,
    key: p.key,
    instances: p.instances,
    kind_config: p.kind_config,
    via: p.via,
    ...(p.settings === undefined ? {} : { settings: p.settings }),
  };
  return encodeEnvelope({ ...meta, type: CONTROL_OK_TYPE, body });
}

/** The answer of an envelope, every field checked (a ProtocolError names a bad one). */
export function controlAnswerOf(env: Envelope): ControlAnswer {
  if (env.type === CONTROL_ERROR_TYPE) {
    return { ok: false, error: new BodyReader(env.body, "control refusal").str("error") };
  }
  if (env.type === CONTROL_PASS_TYPE) {
    const pass = controlPassOf(env.body);
    return { ok: false, error: describeControlPass(pass), pass };
  }
  if (env.type !== CONTROL_OK_TYPE) {
    throw new ProtocolError(
      "value",
      `Cannot decode control answer: field "type" must be ok, error or pass, got ${
        describeValue(env.type)
      }`,
      { field: "type", value: env.type },
    );
  }
  if (env.body === null || env.body === undefined) return { ok: true, applied: null };
  const r = new BodyReader(env.body, "control answer");
  const applied: ControlApplied = {
    kind: r.name("kind"),
    key: r.strOrNull("key"),
    instances: r.count("instances"),
    kind_config: r.bool("kind_config"),
    via: r.oneOf("via", CONTROL_VIA),
  };
  if (r.has("settings")) applied.settings = r.raw("settings");
  return { ok: true, applied };
}

/** The body of a pass, every field checked. */
function controlPassOf(body: unknown): ControlPass {
  const r = new BodyReader(body, "control pass");
  const kind = r.name("kind");
  const runs = r.raw("runs");
  if (!Array.isArray(runs) || !runs.every((k) => typeof k === "string")) {
    throw new ProtocolError(
      "value",
      `Cannot decode control pass: field "runs" must be an array of kind names, got ${
        describeValue(runs)
      }`,
      { field: "runs", value: runs },
    );
  }
  const partition = r.raw("partition") === null ? null : r.count("partition");
  return { kind, runs: [...runs], partition };
}
