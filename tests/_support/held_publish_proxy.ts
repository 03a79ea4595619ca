/**
 * Test support: a TCP proxy in front of a real nats-server that holds back a client's publishes to
 * one subject while the rest of its traffic passes, as a slow path to the server can: the client
 * sees its publish time out, asks the server something (and is answered), and only then does the
 * server get the publish. Publishes to the subject stay in their order behind the one held.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

const CRLF = Buffer.from("\r\n");

/** A proxy to `target` (`nats://host:port`); clients connect to `url`. */
export class HeldPublishProxy {
  readonly url: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #hold: { subject: string; ms: number } | undefined;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.url = `nats://127.0.0.1:${port}`;
  }

  /** Listens on a free loopback port. */
  static async start(target: string): Promise<HeldPublishProxy> {
    const { hostname, port } = new URL(target);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new HeldPublishProxy(server, (server.address() as { port: number }).port);
    server.on("connection", (client: Socket) => proxy.#pipe(client, hostname, Number(port)));
    return proxy;
  }

  /** Holds the next publish to `subject` for `ms` (and those after it to `subject` behind it). */
  holdNext(subject: string, ms: number): void {
    this.#hold = { subject, ms };
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, host: string, port: number): void {
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (chunk) => client.write(chunk));
    let pending = Buffer.alloc(0);
    let held: { subject: string; commands: Buffer[] } | undefined;
    const release = () => {
      for (const c of held!.commands) upstream.write(c);
      held = undefined;
    };
    client.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const command = nextCommand(pending);
        if (!command) break;
        pending = pending.subarray(command.length);
        const hold = this.#hold;
        if (held && command.subject === held.subject) {
          held.commands.push(command.bytes); // behind the one held, in order
        } else if (hold && command.subject === hold.subject) {
          this.#hold = undefined;
          held = { subject: hold.subject, commands: [command.bytes] };
          setTimeout(release, hold.ms);
        } else {
          upstream.write(command.bytes);
        }
      }
    });
  }
}

/** The first whole client command in `buf`, with its subject when it is a publish. */
function nextCommand(
  buf: Buffer,
): { bytes: Buffer; length: number; subject: string | undefined } | undefined {
  const eol = buf.indexOf(CRLF);
  if (eol < 0) return undefined;
  const line = buf.subarray(0, eol).toString("latin1");
  const words = line.split(" ").filter((w) => w.length > 0);
  const op = words[0]?.toUpperCase();
  if (op !== "PUB" && op !== "HPUB") {
    const length = eol + 2;
    return { bytes: Buffer.from(buf.subarray(0, length)), length, subject: undefined };
  }
  const length = eol + 2 + Number(words[words.length - 1]) + 2;
  if (buf.length < length) return undefined;
  return { bytes: Buffer.from(buf.subarray(0, length)), length, subject: words[1] };
}
