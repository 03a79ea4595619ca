import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../../actors/mod.ts";
import { parseHostConfig } from "../../../actors/runtime/mod.ts";
import { ConfigError } from "../../../protocol/mod.ts";

const test = suite("host config");

const ALL = Object.keys(ACTOR_KINDS);

test("every kind runs by default, with its section's fields; a section does not narrow the kinds", () => {
  assert.equal(Object.keys(parseHostConfig({}, ACTOR_KINDS).actors), ALL);
  const c = parseHostConfig({ actors: { anomaly: { threshold: 0.4 } } }, ACTOR_KINDS);
  assert.equal(Object.keys(c.actors), ALL);
  assert.equal(c.actors.anomaly, { threshold: 0.4 });
  assert.equal(c.actors.stats, {});
});

test('"enabled": false turns a kind off; true keeps it; the flag is not passed to the kind', () => {
  const c = parseHostConfig(
    { actors: { coherence: { enabled: false }, stats: { enabled: true, every_samples: 5 } } },
    ACTOR_KINDS,
  );
  assert.equal(Object.keys(c.actors), ALL.filter((k) => k !== "coherence"));
  assert.equal(c.actors.stats, { every_samples: 5 });
});

test("a bad enabled flag, an unknown kind or a bad field is refused naming the field", () => {
  const cases: Array<[unknown, string, string]> = [
    [{ coherence: { enabled: "no" } }, "actors.coherence.enabled", 'got "no"'],
    [{ nope: {} }, "actors.nope", "known kinds: stats, anomaly"],
    [{ stats: { every_samples: 0 } }, "actors.stats.every_samples", ">= 1"],
    [{ stats: 5 }, "actors.stats", "object"],
  ];
  for (const [actors, field, text] of cases) {
    try {
      parseHostConfig({ actors }, ACTOR_KINDS);
      assert.unreachable(`${field} accepted`);
    } catch (err) {
      assert.instance(err, ConfigError, String(err));
      assert.is((err as ConfigError).field, field, (err as Error).message);
      assert.match((err as Error).message, text);
    }
  }
});

test.run();
