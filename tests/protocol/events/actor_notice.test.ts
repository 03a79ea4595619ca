import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  actorNoticeOf,
  decodeEnvelope,
  encodeActorRestarted,
  encodeActorStopped,
  encodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";

const test = suite("actor notice");

const META = { id: "h1:7", src: "h1", ts: 1763900000000000 };

test("encodeActorStopped() and actorNoticeOf() round-trip", () => {
  const body = { stream: "anomaly/BTC", error: "boom" };
  assert.equal(actorNoticeOf(decodeEnvelope(encodeActorStopped(META, body))), {
    type: "actor_stopped",
    body,
  });
});

test("encodeActorRestarted() and actorNoticeOf() round-trip", () => {
  const body = { stream: "collapse/cpu-7", error: "boom", failures: 2, delay_ms: 400 };
  assert.equal(actorNoticeOf(decodeEnvelope(encodeActorRestarted(META, body))), {
    type: "actor_restarted",
    body,
  });
});

test("actorNoticeOf() names a missing field and refuses another type", () => {
  const env = decodeEnvelope(encodeEnvelope({
    ...META,
    type: "actor_restarted",
    body: { stream: "a/b", error: "x", failures: 1 },
  }));
  assert.throws(
    () => actorNoticeOf(env),
    (e: unknown) => e instanceof ProtocolError && e.field === "delay_ms" && e.reason === "field",
  );
  const other = decodeEnvelope(encodeEnvelope({ ...META, type: "anomaly", body: {} }));
  assert.throws(() => actorNoticeOf(other), /field "type" must be actor_stopped or/);
});

test.run();
