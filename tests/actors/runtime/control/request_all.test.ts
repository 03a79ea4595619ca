/**
 * `requestAll`, the request that gathers every answer, on both buses: every responder's answer is
 * kept, in the order they came; no one listening or no answer in time is a BusRequestError, as
 * with `request`.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InProcessBus, NatsBus, requestAll } from "../../../../actors/runtime/mod.ts";
import { type Bus, BusRequestError } from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

const test = suite("requestAll");
const text = new TextEncoder();
const read = new TextDecoder();

/** Three responders on `ask.all`; the third answers after the other two have. */
function respond(bus: Bus): void {
  for (const name of ["a", "b"]) {
    bus.subscribe("ask.all", (m) => bus.publish(m.reply!, text.encode(name)));
  }
  bus.subscribe(
    "ask.all",
    (m) => void setTimeout(() => bus.publish(m.reply!, text.encode("c")), 20),
  );
}

async function check(bus: Bus): Promise<void> {
  respond(bus);
  await bus.flush();
  const answers = await requestAll(bus, "ask.all", text.encode("?"), { timeout: 5000 });
  assert.equal(answers.map((m) => read.decode(m.data)).sort(), ["a", "b", "c"]);
  const err = await requestAll(bus, "ask.none", text.encode("?"), { timeout: 300 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, BusRequestError);
  assert.is((err as BusRequestError).subject, "ask.none");
}

test("on the in-process bus, every responder's answer is gathered; none is a BusRequestError", async () => {
  const bus = new InProcessBus();
  await check(bus);
  await bus.close();
});

if (haveNatsServer("requestAll on NATS")) {
  test("on NATS, every responder's answer is gathered; no one listening is told at once", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    try {
      await check(bus);
      const err = await requestAll(bus, "ask.none", text.encode("?"), { timeout: 60_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.match((err as Error).message, 'No responders on "ask.none"');
      assert.is((err as BusRequestError).noResponders, true);
    } finally {
      await bus.close();
      await nats.cleanup();
    }
  });
}

test.run();
