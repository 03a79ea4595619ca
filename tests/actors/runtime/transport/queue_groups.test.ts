import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type FanOut, fanOut } from "../../../../actors/runtime/mod.ts";

const test = suite("queue_groups");

interface Sub {
  name: string;
  queue: string | undefined;
  active: boolean;
}

function sub(name: string, queue?: string, active = true): Sub {
  return { name, queue, active };
}

/** Records deliveries; picks the last member of a group, and says which members it was offered. */
function recorder() {
  const got: string[] = [];
  const offered: string[] = [];
  const how: FanOut<Sub, string> = {
    deliver: (s, msg) => got.push(`${s.name}:${msg}`),
    pick: (queue, members) => {
      offered.push(`${queue}=${members.map((m) => m.name).join(",")}`);
      return members[members.length - 1]!;
    },
  };
  return { got, offered, how };
}

test("fanOut() hands a message to every plain subscription in order, then one member per group", () => {
  const subs = [sub("a"), sub("w1", "workers"), sub("b"), sub("l1", "logs"), sub("w2", "workers")];
  const { got, offered, how } = recorder();
  fanOut(subs, "m", how);
  assert.equal(got, ["a:m", "b:m", "w2:m", "l1:m"]);
  assert.equal(offered, ["workers=w1,w2", "logs=l1"]);
});

test("fanOut() leaves out subscriptions that are not active, from groups too", () => {
  const subs = [sub("a", undefined, false), sub("w1", "q"), sub("w2", "q", false), sub("b")];
  const { got, offered, how } = recorder();
  fanOut(subs, "m", { ...how, active: (s) => s.active });
  assert.equal(got, ["b:m", "w1:m"]);
  assert.equal(offered, ["q=w1"]);
});

test("fanOut() with no subscriptions delivers nothing and picks nothing", () => {
  const { got, offered, how } = recorder();
  fanOut([], "m", how);
  assert.equal(got, []);
  assert.equal(offered, []);
});

test.run();
