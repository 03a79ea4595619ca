import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate } from "y-protocols/awareness";
import { launchCollab } from "../../collab/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";
import { type RawFrame, rawWebSocket } from "./_raw_ws.ts";

const test = suite("collab awareness relay");

/** A y-websocket awareness message (type 1) holding `update`. */
function awarenessMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/** The awareness update of a y-websocket awareness message, or undefined for any other. */
function awarenessOf(data: Uint8Array): Uint8Array | undefined {
  const d = decoding.createDecoder(data);
  return decoding.readVarUint(d) === 1 ? decoding.readVarUint8Array(d) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test("renewals of unchanged states go out together after the renewal wait, a change at once", async () => {
  const dir = tempDir("troupe-collab-awareness-");
  // The renewals below are sent over about 180 ms, and must all fall within one renewal wait: 3 s
  // leaves room for a stall of this process (server and clients alike) that 1 s did not.
  const c = await launchCollab({
    dataDir: dir.path,
    limits: { awareness_batch_ms: 20, awareness_renewal_batch_ms: 3000 },
  });
  const token = await tokenFor(dir.path, "ops", "editor");
  const path = `/collab/ops?token=${token}`;
  // A socket per client: a connection may set its own client's awareness only.
  const writers = await Promise.all([1, 2, 3, 4].map(() => rawWebSocket(c.server.port, path)));
  const reader = await rawWebSocket(c.server.port, path);
  // What the reader receives: per awareness message, the clients it names.
  const mirror = new Awareness(new Y.Doc());
  mirror.setLocalState(null);
  const messages: number[][] = [];
  reader.resume((f: RawFrame) => {
    const update = f.op === "binary" ? awarenessOf(f.data) : undefined;
    if (!update) return;
    const named: number[] = [];
    const d = decoding.createDecoder(update);
    for (let n = decoding.readVarUint(d); n > 0; n--) {
      named.push(decoding.readVarUint(d));
      decoding.readVarUint(d); // clock
      decoding.readVarString(d); // state
    }
    messages.push(named);
    applyAwarenessUpdate(mirror, update, "server");
  });
  for (const w of writers) w.resume(() => {});
  const clients = [1, 2, 3, 4].map((i) => {
    const a = new Awareness(new Y.Doc());
    a.setLocalState({ user: `u${i}` });
    return a;
  });
  const send = (a: Awareness) =>
    writers[clients.indexOf(a)]!.send(awarenessMessage(encodeAwarenessUpdate(a, [a.clientID])));
  try {
    for (const a of clients.slice(0, 3)) send(a);
    await waitFor(() => mirror.getStates().size === 3, 5000, "the reader sees three clients");
    messages.length = 0;
    // Three renewals, each a batch apart: each alone would be a message of its own.
    for (const a of clients.slice(0, 3)) {
      a.setLocalState(a.getLocalState()); // what y-protocols does every 15 s
      send(a);
      await sleep(60);
    }
    send(clients[3]!); // a new client: a change
    const current = (a: Awareness) =>
      mirror.meta.get(a.clientID)?.clock === a.meta.get(a.clientID)?.clock;
    await waitFor(
      () => clients.every(current),
      10_000,
      "the reader has every renewal and the new client",
    );
    await sleep(100); // anything else sent would have come by now
    const ids = (as: Awareness[]) => as.map((a) => a.clientID).sort();
    assert.equal(messages.map((m) => [...m].sort()), [
      ids([clients[3]!]),
      ids(clients.slice(0, 3)),
    ], "the change first, then the three renewals in one message");
  } finally {
    for (const w of writers) w.socket.destroy();
    reader.socket.destroy();
    for (const a of clients) a.destroy();
    mirror.destroy();
    await c.close();
    dir.remove();
  }
});

test("a changed state is not held back by an earlier renewal of the same client", async () => {
  const dir = tempDir("troupe-collab-awareness-");
  const c = await launchCollab({
    dataDir: dir.path,
    limits: { awareness_batch_ms: 20, awareness_renewal_batch_ms: 60_000 },
  });
  const token = await tokenFor(dir.path, "ops", "editor");
  const path = `/collab/ops?token=${token}`;
  const writer = await rawWebSocket(c.server.port, path);
  const reader = await rawWebSocket(c.server.port, path);
  const mirror = new Awareness(new Y.Doc());
  mirror.setLocalState(null);
  reader.resume((f: RawFrame) => {
    const update = f.op === "binary" ? awarenessOf(f.data) : undefined;
    if (update) applyAwarenessUpdate(mirror, update, "server");
  });
  writer.resume(() => {});
  const a = new Awareness(new Y.Doc());
  const send = () => writer.send(awarenessMessage(encodeAwarenessUpdate(a, [a.clientID])));
  try {
    a.setLocalState({ cursor: 1 });
    send();
    await waitFor(() => mirror.getStates().has(a.clientID), 5000, "the reader sees the client");
    a.setLocalState({ cursor: 1 }); // a renewal, held for a minute
    send();
    a.setLocalState({ cursor: 2 }); // then a change: it carries the latest clock at once
    send();
    await waitFor(
      () => mirror.getStates().get(a.clientID)?.cursor === 2,
      5000,
      "the reader sees the change",
    );
    assert.is(mirror.meta.get(a.clientID)?.clock, a.meta.get(a.clientID)?.clock);
  } finally {
    writer.socket.destroy();
    reader.socket.destroy();
    a.destroy();
    mirror.destroy();
    await c.close();
    dir.remove();
  }
});

test.run();
