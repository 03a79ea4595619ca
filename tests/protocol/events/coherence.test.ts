import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type CoherenceBody,
  coherenceOf,
  currentEventBytes,
  decodeEnvelope,
  encodeCoherence,
  encodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";

const test = suite("coherence event");

const META = { id: "b3:coherence:eq:0", src: "coherence/eq", ts: 1763900060000000, cause: "b3" };
const BODY: CoherenceBody = {
  group: "eq",
  state: "coherent",
  from: "normal",
  ratio: 0.81,
  shift: 3.4,
  top_channels: [{ channel: "SYM001", loading: 0.52 }, { channel: "SYM007", loading: 0.44 }],
};

test("encodeCoherence() and coherenceOf() round-trip every field", () => {
  const env = decodeEnvelope(encodeCoherence(META, BODY));
  assert.equal(coherenceOf(env), BODY);
});

test("coherenceOf() reads format 1 (topChannels) and currentEventBytes() rewrites it", () => {
  const { top_channels, ...rest } = BODY;
  const oldBytes = encodeEnvelope({
    ...META,
    type: "coherence",
    body: { ...rest, topChannels: top_channels },
  });
  assert.equal(coherenceOf(decodeEnvelope(oldBytes)), BODY);
  assert.equal(currentEventBytes(oldBytes), encodeCoherence(META, BODY));
});

test("coherenceOf() names a bad loading by its place, and a state that is no phase", () => {
  const badLoading = decodeEnvelope(encodeEnvelope({
    ...META,
    type: "coherence",
    body: { ...BODY, top_channels: [BODY.top_channels[0], { channel: "SYM007", loading: "x" }] },
  }));
  assert.is(
    errorOf(() => coherenceOf(badLoading)).message,
    'Cannot decode coherence event: top_channels[1]: field "loading" must be a number, got "x"',
  );
  const badState = decodeEnvelope(encodeCoherence(META, {
    ...BODY,
    state: "calm" as CoherenceBody["state"],
  }));
  assert.is(errorOf(() => coherenceOf(badState)).field, "state");
});

function errorOf(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error("expected a ProtocolError");
}

test.run();
