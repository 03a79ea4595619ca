/**
 * A host's answer to a control request (`troupe.ctl.<kind>[.<key>]` with a reply subject): `ok`
 * with what it applied, or `error` with the reason it refused. `troupe ctl`, the session bridge
 * (a threshold edited on the page) and `troupe up`'s settings read it through `controlAnswerOf`.
 */
import { encodeEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { describeValue, ProtocolError } from "../protocol_error.ts";
import { BodyReader } from "./_body_reader.ts";

/** The envelope types of the answers. */
export const CONTROL_OK_TYPE = "ok";
/** The envelope type of a refusal. */
export const CONTROL_ERROR_TYPE = "error";

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

/** An answer: applied (null from older hosts, which said only "ok"), or refused with the reason. */
export type ControlAnswer =
  | { ok: true; applied: ControlApplied | null }
  | { ok: false; error: string };

/** Encodes an answer. */
export function encodeControlAnswer(
  meta: Omit<EnvelopeInit, "type" | "body">,
  a: ControlAnswer,
): Uint8Array {
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
  if (env.type !== CONTROL_OK_TYPE) {
    throw new ProtocolError(
      "value",
      `Cannot decode control answer: field "type" must be ok or error, got ${
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
