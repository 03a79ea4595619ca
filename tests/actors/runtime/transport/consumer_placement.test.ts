/**
 * placeConsumer (_consumer_placement.ts) against creates whose answers the test gives, in the
 * order it chooses: one placed on a lost node never answers, one placed on the meta leader's node
 * answers with it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { ConsumerInfo } from "@nats-io/jetstream";
import { placeConsumer } from "../../../../actors/runtime/transport/_consumer_placement.ts";

const test = suite("placeConsumer");

/** A create the test answers: made on `node`, or failed with `err`. */
interface Create {
  made(node: string): void;
  failed(err: Error): void;
}

/** A `make` whose creates wait for the test, and the names `drop` was given. */
function creates() {
  const pending: Create[] = [];
  const dropped: string[] = [];
  let n = 0;
  const make = () =>
    new Promise<ConsumerInfo>((resolve, reject) => {
      const name = `c${n++}`;
      pending.push({
        made: (node) => resolve({ name, cluster: { leader: node } } as ConsumerInfo),
        failed: reject,
      });
    });
  const drop = (name: string) => {
    dropped.push(name);
    return Promise.resolve();
  };
  return { pending, dropped, make, drop };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("keeps the first consumer placed off the meta leader while another create has not answered", async () => {
  const c = creates();
  let settled = false;
  const placed = placeConsumer(c.make, { count: 3, avoid: "n1", drop: c.drop });
  void placed.then(() => (settled = true));
  await tick();
  assert.is(c.pending.length, 3, "three creates at once");
  c.pending[1]!.made("n1"); // on the meta leader: kept only if no other is placed
  await tick();
  assert.not.ok(settled, "one on the meta leader is not kept while others may answer");
  c.pending[2]!.made("n2");
  await tick();
  assert.ok(settled, "kept with the first create (on a lost node) still waiting");
  const { info, rest } = await placed;
  assert.is(info.name, "c2");
  assert.equal(c.dropped, ["c1"], "the one on the meta leader is dropped");
  let restDone = false;
  void rest.then(() => (restDone = true));
  await tick();
  assert.not.ok(restDone, "the rest waits for the create still out");
  c.pending[0]!.made("n0"); // a late answer
  await rest;
  assert.equal(c.dropped, ["c1", "c0"], "a consumer made late is dropped too");
});

test("keeps a consumer on the meta leader when every other create failed", async () => {
  const c = creates();
  const placed = placeConsumer(c.make, { count: 3, avoid: "n1", drop: c.drop });
  await tick();
  c.pending[0]!.failed(new Error("timeout"));
  c.pending[1]!.made("n1");
  c.pending[2]!.failed(new Error("timeout"));
  const { info } = await placed;
  assert.is(info.name, "c1");
  assert.equal(c.dropped, []);
});

test("drops every consumer on the meta leader but one, and keeps that one when none is elsewhere", async () => {
  const c = creates();
  const placed = placeConsumer(c.make, { count: 3, avoid: "n1", drop: c.drop });
  await tick();
  for (const p of c.pending) p.made("n1");
  const { info, rest } = await placed;
  await rest;
  assert.is(info.name, "c0");
  assert.equal(c.dropped, ["c1", "c2"]);
});

test("rejects with the first failure when no create made a consumer", async () => {
  const c = creates();
  const placed = placeConsumer(c.make, { count: 2, avoid: undefined, drop: c.drop });
  await tick();
  c.pending[1]!.failed(new Error("first"));
  c.pending[0]!.failed(new Error("second"));
  try {
    await placed;
    assert.unreachable("placed without a consumer");
  } catch (err) {
    assert.is((err as Error).message, "first");
  }
});

test("with nothing to avoid, the first consumer made is kept and a second dropped", async () => {
  const c = creates();
  const placed = placeConsumer(c.make, { count: 2, avoid: undefined, drop: c.drop });
  await tick();
  c.pending[1]!.made("n1");
  c.pending[0]!.made("n1");
  const { info, rest } = await placed;
  await rest;
  assert.is(info.name, "c1");
  assert.equal(c.dropped, ["c0"]);
});

test.run();
