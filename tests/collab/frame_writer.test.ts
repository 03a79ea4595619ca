/**
 * The collab server frames each outgoing message once and writes that frame to each socket: the
 * frame is byte for byte what ws's own sender builds, at each payload-length encoding, and through
 * a live server messages of each size reach stock clients whole and in order, a burst of them
 * included.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as ws from "ws";
import * as Y from "yjs";
import { binaryFrame } from "../../collab/socket/_frame_writer.ts";
import { launchCollab } from "../../collab/mod.ts";
import { Prng } from "../../sim/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { connectClient, tokenFor, TRANSPORT_SCHEMA, waitFor } from "./_support.ts";

const test = suite("frame writer");

/** ws's sender, which frames a server's unmasked, unfragmented binary message. */
const Sender = (ws as unknown as {
  Sender: { frame(data: Uint8Array, options: Record<string, unknown>): Uint8Array[] };
}).Sender;

test("binaryFrame() builds the frame ws's sender builds, for 7-bit, 16-bit and 64-bit lengths", () => {
  const seed = 15;
  const rng = new Prng(seed);
  for (const n of [0, 1, 125, 126, 127, 1000, 65535, 65536, 70_000]) {
    const payload = new Uint8Array(n);
    for (let i = 0; i < n; i++) payload[i] = Math.floor(rng.next() * 256);
    const parts = Sender.frame(Buffer.from(payload), {
      fin: true,
      opcode: 2,
      mask: false,
      readOnly: false,
      rsv1: false,
    });
    const expected = Buffer.concat(parts);
    assert.ok(
      Buffer.from(binaryFrame(payload)).equals(expected),
      `payload of ${n} bytes (seed ${seed})`,
    );
  }
});

test("relayed updates of every length encoding reach another stock client whole, in order", async () => {
  const dir = tempDir("troupe-collab-frames-");
  const c = await launchCollab({ dataDir: dir.path, schema: TRANSPORT_SCHEMA });
  const token = await tokenFor(dir.path, "frames", "editor");
  const a = await connectClient(c.server.url, "frames", token);
  const b = await connectClient(c.server.url, "frames", token);
  try {
    const texts = [10, 200, 70_000, 3].map((n, i) => String.fromCharCode(97 + i).repeat(n));
    const log = a.doc.getArray<string>("log");
    // Four updates in one task: they reach the server in one burst, and b gets them in order.
    for (const t of texts) log.push([t]);
    const seen = b.doc.getArray<string>("log");
    await waitFor(() => seen.length === texts.length, 10_000, "b has every entry");
    assert.equal(seen.toArray(), texts);
    // And a third client's sync (a step 2 holding the whole document, over 64 KiB) is whole.
    const late = await connectClient(c.server.url, "frames", token);
    try {
      assert.equal(late.doc.getArray<string>("log").toArray(), texts);
      assert.equal(Y.encodeStateVector(late.doc), Y.encodeStateVector(a.doc));
    } finally {
      late.destroy();
    }
  } finally {
    a.destroy();
    b.destroy();
    await c.close();
    dir.remove();
  }
});

test.run();
