/**
 * The latency injector's phases, as its stdin lines give them (`bench/_latency_phases.ts`): a bad
 * line is refused with the field and the value named, never run.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readPhase } from "../../bench/_latency_phases.ts";

const test = suite("latency injector phases");

test("readPhase() reads a troupe phase and a raw one, each field as given", () => {
  assert.equal(
    readPhase('{"rate":1000,"seconds":0.3,"warmup":0.1,"answers":"troupe.out.stats.*"}', 1),
    {
      rate: 1000,
      seconds: 0.3,
      warmup: 0.1,
      answers: "troupe.out.stats.*",
      raw: undefined,
      raw_answers: undefined,
      timeline: undefined,
    },
  );
  const raw = readPhase(
    '{"rate":5,"seconds":0,"warmup":1,"raw":"a.b","raw_answers":"a.c","timeline":"/tmp/x.json"}',
    2,
  );
  assert.equal([raw.raw, raw.raw_answers, raw.timeline, raw.seconds], [
    "a.b",
    "a.c",
    "/tmp/x.json",
    0,
  ]);
});

test("readPhase() names the phase, the field and the value of a bad line", () => {
  const bad: [string, RegExp][] = [
    ["stop please", /^phase 3: not a JSON object: stop please$/],
    ["[1]", /^phase 3: not a JSON object: \[1\]$/],
    [
      '{"rate":0,"seconds":1,"warmup":0,"raw":"a"}',
      /phase 3: "rate" must be a number ≥ 0.001, got 0/,
    ],
    [
      '{"rate":9,"seconds":"1","warmup":0,"raw":"a"}',
      /phase 3: "seconds" must be a number ≥ 0, got "1"/,
    ],
    [
      '{"rate":9,"seconds":1,"warmup":-1,"raw":"a"}',
      /phase 3: "warmup" must be a number ≥ 0, got -1/,
    ],
    [
      '{"rate":9,"seconds":1,"warmup":0,"raw":""}',
      /phase 3: "raw" must be a non-empty string, got ""/,
    ],
    ['{"rate":9,"seconds":1,"warmup":0}', /phase 3: give one of "answers" and "raw"/],
    [
      '{"rate":9,"seconds":1,"warmup":0,"raw":"a","answers":"b"}',
      /give one of "answers" and "raw"/,
    ],
    [
      '{"rate":9,"seconds":1,"warmup":0,"answers":"b","raw_answers":"c"}',
      /"raw_answers" needs "raw"/,
    ],
  ];
  for (const [line, message] of bad) assert.throws(() => readPhase(line, 3), message, line);
});

test.run();
