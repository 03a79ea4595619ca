/**
 * `troupe bench join`: how long the collab server's `/healthz` takes while a storm of clients joins
 * one session at once, each receiving the whole document. The server runs in a process of its own
 * (`bench/_collab_server.ts`); this process writes the document (about `--doc-kib` KiB of
 * annotations, through a stock y-websocket client), opens `--clients` WebSockets, sends each a
 * sync step 1 with nothing in it, and probes `/healthz` one request after another until every
 * client has its document. The figure is the slowest probe during the join; the baseline, the
 * slowest of as many probes of the same server idle, before the join.
 */
import * as encoding from "lib0/encoding";
import { WebSocket } from "ws";
import { loadKeyring, mintToken, SessionDoc } from "../collab/mod.ts";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { ChildScript } from "./_child_script.ts";
import { tempDir } from "./_temp_dir.ts";
import { sleep } from "./_sleep.ts";

const NAME = "join";
const ROOM = "join";

const OPTIONS = {
  clients: {
    help: "clients joining at once",
    default: 500,
    number: { min: 1, max: 5_000, integer: true },
  },
  "doc-kib": {
    help: "the document's size in KiB",
    arg: "K",
    default: 900,
    number: { min: 1, max: 8_192, integer: true },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "slowest /healthz of the collab server while 500 clients join a 0.9 MiB document, against idle",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { clients, "doc-kib": docKib } = readOptions(args, OPTIONS);
    const dir = tempDir("troupe-bench-join-");
    const server = ChildScript.start("bench/_collab_server.ts", ["troupe", dir.path], ctx.log);
    const sockets: WebSocket[] = [];
    try {
      const { port } = await server.next(30_000) as { port: number };
      const ring = await loadKeyring({ dataDir: dir.path });
      const token = await mintToken(ring, {
        session: ROOM,
        role: "editor",
        ttlS: 3600,
        nowMs: Date.now(),
      });
      await writeDocument(port, token, docKib);
      const probe = async () => {
        const t0 = performance.now();
        await (await fetch(`http://127.0.0.1:${port}/healthz`)).text();
        return performance.now() - t0;
      };
      const idle: number[] = [];
      for (let i = 0; i < 20; i++) idle.push(await probe());
      let joined = 0;
      await Promise.all(Array.from({ length: clients }, () => open(port, token, sockets)));
      const t0 = performance.now();
      const step1 = emptyStep1();
      for (const ws of sockets) {
        ws.on("message", (data: Uint8Array) => {
          if (data[0] === 0 && data[1] === 1 && data.byteLength > docKib * 512) joined++;
        });
        ws.send(step1);
      }
      const during: number[] = [];
      while (joined < clients && performance.now() - t0 < 120_000) during.push(await probe());
      const joinS = (performance.now() - t0) / 1000;
      ctx.log(
        `join: ${clients} clients, ${docKib} KiB: joined in ${joinS.toFixed(2)} s; /healthz ` +
          `${during.length} probes during, slowest ${Math.max(...during).toFixed(1)} ms ` +
          `(idle slowest ${Math.max(...idle).toFixed(1)} ms)`,
      );
      return [
        row({
          bench: NAME,
          metric: "healthz_ms_max_during_join",
          unit: "ms",
          troupe: Math.max(...during),
          baseline: Math.max(...idle),
          better: "lower",
        }),
        row({
          bench: NAME,
          metric: "join_s",
          unit: "s",
          troupe: joinS,
          baseline: null,
          better: "lower",
        }),
      ];
    } finally {
      for (const ws of sockets) ws.terminate();
      server.send("stop");
      await server.wait();
      dir.remove();
    }
  },
};

/** Writes about `kib` KiB of annotations into the session through a stock client. */
async function writeDocument(port: number, token: string, kib: number): Promise<void> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`ws://127.0.0.1:${port}/collab`, ROOM, doc, {
    // deno-lint-ignore no-explicit-any
    WebSocketPolyfill: WebSocket as any,
    params: { token },
    disableBc: true,
  });
  while (!provider.synced) await sleep(10);
  const sdoc = new SessionDoc(doc);
  const text = "x".repeat(1000);
  // In parts of 100 KiB: a client message is capped at 1 MiB.
  for (let done = 0; done < kib;) {
    doc.transact(() => {
      for (let i = 0; i < 100 && done < kib; i++, done++) {
        sdoc.addAnnotation({ id: `n${done}`, t: done, channel: "BTC", text, author: "bench" });
      }
    });
  }
  await sleep(500); // its updates are in and durable
  provider.destroy();
}

function open(port: number, token: string, sockets: WebSocket[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/collab/${ROOM}?token=${token}`);
    ws.binaryType = "nodebuffer";
    ws.on("open", () => resolve());
    ws.on("error", reject);
    sockets.push(ws);
  });
}

/** A sync step 1 with an empty state vector: a client with nothing yet. */
function emptyStep1(): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0); // messageSync
  encoding.writeVarUint(e, 0); // step 1
  encoding.writeVarUint8Array(e, new Uint8Array([0]));
  return encoding.toUint8Array(e);
}
