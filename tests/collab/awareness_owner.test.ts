/**
 * Awareness is per client: a connection may set its own client's awareness and no other's. A
 * viewer that sends an awareness entry for another client's id (to show as that user, or to
 * remove them) has it dropped and counted, over real WebSockets with stock y-websocket clients.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as encoding from "lib0/encoding";
import { WebSocket } from "ws";
import { launchCollab } from "../../collab/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { connectClient, getText, metric, tokenFor, waitFor } from "./_support.ts";

const test = suite("awareness owners");

/** A y-websocket awareness message setting `clientId`'s state to `state` at `clock`. */
function awarenessMessage(clientId: number, clock: number, state: unknown): Uint8Array {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, 1);
  encoding.writeVarUint(update, clientId);
  encoding.writeVarUint(update, clock);
  encoding.writeVarString(update, JSON.stringify(state));
  const msg = encoding.createEncoder();
  encoding.writeVarUint(msg, 1); // messageAwareness
  encoding.writeVarUint8Array(msg, encoding.toUint8Array(update));
  return encoding.toUint8Array(msg);
}

const names = (
  c: { provider: { awareness: { getStates(): Map<number, Record<string, unknown>> } } },
) =>
  [...c.provider.awareness.getStates().values()].map((s) =>
    (s.user as { name?: string } | undefined)?.name
  ).filter((n) => n !== undefined).sort();

test("a connection's awareness entries for another client's id are dropped and counted; its own are taken", async () => {
  const dir = tempDir("troupe-awareness-");
  const c = await launchCollab({ dataDir: dir.path });
  const http = `http://127.0.0.1:${c.server.port}`;
  const ana = await connectClient(c.server.url, "ops", await tokenFor(dir.path, "ops", "editor"));
  const eve = await connectClient(c.server.url, "ops", await tokenFor(dir.path, "ops", "viewer"));
  try {
    ana.provider.awareness.setLocalStateField("user", { name: "ana" });
    eve.provider.awareness.setLocalStateField("user", { name: "eve" });
    await waitFor(() => names(ana).join() === "ana,eve", 5000, "both see each other");
    await waitFor(() => names(eve).join() === "ana,eve", 5000, "both see each other");
    // Eve's socket claims to be ana (a later clock, so it would win), then removes her.
    const anaId = ana.doc.clientID;
    const ws = eve.provider.ws as unknown as WebSocket;
    ws.send(awarenessMessage(anaId, 1_000, { user: { name: "mallory" } }));
    ws.send(awarenessMessage(anaId, 1_001, null));
    // A new socket whose first awareness is ana's id: refused too (ana's connection owns it).
    const token = await tokenFor(dir.path, "ops", "viewer");
    const raw = new WebSocket(`${c.server.url}/ops?token=${token}`);
    await new Promise((resolve, reject) => (raw.on("open", resolve), raw.on("error", reject)));
    raw.send(awarenessMessage(anaId, 2_000, { user: { name: "mallory2" } }));
    const refused = async () =>
      metric(await getText(`${http}/metrics`), "troupe_collab_awareness_refused_total");
    for (const end = Date.now() + 5000; (await refused()) < 3 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.is(await refused(), 3);
    // Eve's own entry still goes through, and ana is still ana, everywhere.
    eve.provider.awareness.setLocalStateField("user", { name: "eve2" });
    await waitFor(() => names(ana).join() === "ana,eve2", 5000, "ana sees eve's own change");
    const server = c.server.room("ops")!.awareness.getStates();
    assert.equal((server.get(anaId)?.user as { name: string }).name, "ana");
    assert.equal(names(eve), ["ana", "eve2"]);
    raw.close();
  } finally {
    ana.destroy();
    eve.destroy();
    await c.close();
    dir.remove();
  }
});

test.run();
