import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  checkStepOverrun,
  decodeStepOverrun,
  encodeStepOverrun,
  encodeValue,
  ProtocolError,
  type StepOverrun,
} from "../../protocol/mod.ts";

const test = suite("step overruns on the wire");

const OVERRUN: StepOverrun = {
  stream: "deadly/a",
  kind: "deadly",
  key: "a",
  pos: 3,
  src_pos: 17,
  elapsed_ms: 512,
  deadline_ms: 500,
};

test("encodeStepOverrun() and decodeStepOverrun() round-trip an overrun, with and without host", () => {
  assert.equal(decodeStepOverrun(encodeStepOverrun(OVERRUN)), OVERRUN);
  const leased = { ...OVERRUN, host: "part-1" };
  assert.equal(decodeStepOverrun(encodeStepOverrun(leased)), leased);
});

test("decodeStepOverrun() names where, the field and the value it rejects", () => {
  const bad = encodeValue({ v: 1, ...OVERRUN, src_pos: -2 });
  try {
    decodeStepOverrun(bad, "troupe_step_overruns key partition.1");
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).field, "src_pos");
    assert.is(
      (err as Error).message,
      'Invalid troupe_step_overruns key partition.1: field "src_pos" must be an integer of 0 ' +
        "or more, got -2",
    );
  }
  const v2 = encodeValue({ v: 2, ...OVERRUN });
  assert.throws(() => decodeStepOverrun(v2), /field "v" must be 1, got 2/);
  assert.throws(() => encodeStepOverrun({ ...OVERRUN, host: "part.1" }), /field "host"/);
});

test("checkStepOverrun() reads the JSON a watchdog wrote and rejects what is not one", () => {
  assert.equal(checkStepOverrun(JSON.parse(JSON.stringify(OVERRUN)), "file"), OVERRUN);
  assert.throws(() => checkStepOverrun([], "file"), /Invalid file: must be a map, got/);
  const { kind: _kind, ...noKind } = OVERRUN;
  assert.throws(
    () => checkStepOverrun(noKind, "file"),
    /Invalid file: field "kind" must be a string, got undefined/,
  );
  assert.throws(
    () => checkStepOverrun({ ...OVERRUN, pos: 1.5 }, "file"),
    /field "pos" must be an integer of 0 or more, got 1\.5/,
  );
});

test.run();
