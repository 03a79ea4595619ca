import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  HOST_OUTBOUND_FLUSH_BYTES,
  NatsBus,
  natsServerList,
} from "../../../../actors/runtime/transport/nats_bus.ts";
import { freePort } from "../../../../actors/runtime/transport/free_port.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import {
  type Bus,
  type BusMessage,
  BusRequestError,
  bytesEqual,
} from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

// The same contract suite runs against both buses: they must route identically.
const enc = new TextEncoder();
const dec = new TextDecoder();

async function settle(bus: Bus) {
  await bus.flush();
  await new Promise((r) => setTimeout(r, 30));
  await bus.flush();
}

function contract(
  name: string,
  make: () => Promise<{ bus: Bus; other: Bus; done(): Promise<void> }>,
) {
  const test = suite(name);

  test("subscribe() matches * and > like NATS and delivers in publish order", async () => {
    const { bus, other, done } = await make();
    try {
      const got: Record<string, string[]> = { star: [], gt: [], exact: [] };
      bus.subscribe("t.*.x", (m) => got.star!.push(dec.decode(m.data)));
      bus.subscribe("t.>", (m) => got.gt!.push(dec.decode(m.data)));
      bus.subscribe("t.a.x", (m) => got.exact!.push(dec.decode(m.data)));
      await settle(bus);
      for (
        const [s, d] of [["t.a.x", "1"], ["t.b.x", "2"], ["t.a.y", "3"], ["t.a.x.z", "4"], [
          "u.a.x",
          "5",
        ]]
      ) {
        other.publish(s!, enc.encode(d));
      }
      await settle(other);
      await settle(bus);
      assert.equal(got, { star: ["1", "2"], gt: ["1", "2", "3", "4"], exact: ["1"] });
    } finally {
      await done();
    }
  });

  test("a queue group hands each message to exactly one member", async () => {
    const { bus, other, done } = await make();
    try {
      const a: number[] = [], b: number[] = [], all: number[] = [];
      bus.subscribe("q.s", (m) => a.push(m.data[0]!), { queue: "g" });
      bus.subscribe("q.s", (m) => b.push(m.data[0]!), { queue: "g" });
      bus.subscribe("q.s", (m) => all.push(m.data[0]!));
      await settle(bus);
      for (let i = 0; i < 100; i++) other.publish("q.s", new Uint8Array([i]));
      await settle(other);
      await settle(bus);
      assert.is(a.length + b.length, 100);
      assert.equal([...a, ...b].sort((x, y) => x - y), [...Array(100).keys()]);
      assert.is(all.length, 100);
    } finally {
      await done();
    }
  });

  test("request() gets the reply with headers, and fails fast with no responders", async () => {
    const { bus, other, done } = await make();
    try {
      bus.subscribe("svc.echo", (m: BusMessage) => {
        bus.publish(m.reply!, enc.encode(`echo:${dec.decode(m.data)}:${m.headers?.["X-Trace"]}`));
      });
      await settle(bus);
      const reply = await other.request("svc.echo", enc.encode("hi"), {
        timeout: 2000,
        headers: { "X-Trace": "t1" },
      });
      assert.is(dec.decode(reply.data), "echo:hi:t1");
      let err: unknown;
      try {
        await other.request("svc.nobody", enc.encode("x"), { timeout: 500 });
      } catch (e) {
        err = e;
      }
      assert.instance(err, Error);
      assert.is((err as Error).name, "BusRequestError");
      assert.is((err as BusRequestError).noResponders, true, "no one subscribes: told so");
      // A subscriber that never answers: a timeout, not "no responders".
      bus.subscribe("svc.silent", () => {});
      await settle(bus);
      const silent = await other.request("svc.silent", enc.encode("x"), { timeout: 50 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.instance(silent, BusRequestError);
      assert.is((silent as BusRequestError).noResponders, false);
    } finally {
      await done();
    }
  });

  test("a handler that throws does not stop delivery to others", async () => {
    const { bus, other, done } = await make();
    const errors: unknown[] = [];
    try {
      const got: number[] = [];
      bus.subscribe("e.x", () => {
        errors.push(1);
        throw new Error("handler bug");
      });
      bus.subscribe("e.x", (m) => got.push(m.data[0]!));
      await settle(bus);
      for (let i = 0; i < 5; i++) other.publish("e.x", new Uint8Array([i]));
      await settle(other);
      await settle(bus);
      assert.equal(got, [0, 1, 2, 3, 4]);
      assert.is(errors.length, 5);
    } finally {
      await done();
    }
  });

  test.run();
}

const quiet = { onHandlerError: () => {} };
contract("in_process_bus", () => {
  const bus = new InProcessBus(quiet);
  return Promise.resolve({ bus, other: bus, done: () => bus.close() });
});

if (haveNatsServer("nats_bus")) {
  contract("nats_bus", async () => {
    const server = await startTestNats();
    const bus = await NatsBus.connect(server.url, quiet);
    const other = await NatsBus.connect(server.url, quiet);
    return {
      bus,
      other,
      async done() {
        await bus.close();
        await other.close();
        await server.cleanup();
      },
    };
  });
}

if (haveNatsServer("nats_bus")) {
  const servers = suite("nats_bus_servers");
  servers("natsServerList() splits a comma-separated URL into its servers", () => {
    assert.equal(natsServerList("nats://a:1, nats://b:2,,nats://c:3 "), [
      "nats://a:1",
      "nats://b:2",
      "nats://c:3",
    ]);
    assert.equal(natsServerList("nats://a:1"), ["nats://a:1"]);
  });
  servers("NatsBus.connect() takes a comma-separated list as several servers", async () => {
    const server = await startTestNats();
    const dead = `nats://127.0.0.1:${await freePort()}`;
    try {
      // Either order reaches the live one: the whole string read as one server reached neither.
      for (const list of [`${server.url},${dead}`, `${dead}, ${server.url}`]) {
        const bus = await NatsBus.connect(list, quiet);
        try {
          assert.is(bus.nc.getServer(), `127.0.0.1:${server.port}`, list);
        } finally {
          await bus.close();
        }
      }
    } finally {
      await server.cleanup();
    }
  });
  servers(
    "a host's connection holds 256 KiB in its outbound queue before it writes within a task",
    async () => {
      const server = await startTestNats();
      const bus = await NatsBus.connect(server.url, {
        ...quiet,
        outboundFlushBytes: HOST_OUTBOUND_FLUSH_BYTES,
      });
      const plain = await NatsBus.connect(server.url, quiet);
      const got: Uint8Array[] = [];
      const sub = bus.subscribe("big.>", (m) => got.push(m.data));
      try {
        await bus.flush();
        // nats.js takes the option its types leave out: an upgrade that drops it fails here.
        const protocol = (bus.nc as unknown as { protocol: { pendingLimit: number } }).protocol;
        assert.is(protocol.pendingLimit, HOST_OUTBOUND_FLUSH_BYTES);
        // Without the option, nats.js's own, smaller.
        const own = (plain.nc as unknown as { protocol: { pendingLimit: number } }).protocol;
        assert.ok(own.pendingLimit < HOST_OUTBOUND_FLUSH_BYTES, `nats.js's: ${own.pendingLimit}`);
        // 1 MiB in one task, past four thresholds' worth: all of it arrives, in order.
        const sent: Uint8Array[] = [];
        for (let i = 0; i < 256; i++) {
          const data = new Uint8Array(4096).fill(i);
          sent.push(data);
          bus.publish(`big.${i}`, data);
        }
        await bus.flush();
        const t0 = Date.now();
        while (got.length < 256 && Date.now() - t0 < 5000) {
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.is(got.length, sent.length);
        got.forEach((data, i) => assert.ok(bytesEqual(data, sent[i]!), `message ${i}`));
      } finally {
        sub.unsubscribe();
        await bus.close();
        await plain.close();
        await server.cleanup();
      }
    },
  );
  servers.run();
}
