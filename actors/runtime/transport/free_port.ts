/**
 * A free TCP port on the loopback interface, for a server that is told its port before it starts
 * (nats-server, the receivers of `troupe up`, a test's Prometheus).
 *
 * A port the OS hands out for `listen(0)` comes from its ephemeral range, the range every outgoing
 * connection's local port also comes from: between the moment it is found free and the moment the
 * server binds it, any client on the machine may connect from it, and the server then fails with
 * "address already in use". So the port is drawn from the span just below that range, which the OS
 * never assigns on its own; only another program that binds that very port can take it.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** How wide the span below the ephemeral range is. */
const SPAN = 12_000;
/** Ports under this are left alone: well-known services live there. */
const LOWEST = 10_000;
/** Random draws tried before the OS is asked for any free port. */
const DRAWS = 40;
/** IANA's dynamic ports (RFC 6335): the ephemeral range of macOS and Windows. */
const IANA_DYNAMIC_FIRST = 49_152;

/** A free TCP port on 127.0.0.1, outside the OS's ephemeral range where it can tell. */
export async function freePort(): Promise<number> {
  const high = ephemeralFirst() - 1;
  const low = Math.max(LOWEST, high - SPAN);
  for (let draw = 0; draw < DRAWS && high > low; draw++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await listens(port)) return port;
  }
  return await anyPort();
}

/** The first port of the ephemeral range: Linux says it; elsewhere IANA's dynamic range. */
function ephemeralFirst(): number {
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    if (Number.isInteger(first) && first > LOWEST) return first;
  } catch {
    // not Linux, or /proc not readable
  }
  return IANA_DYNAMIC_FIRST;
}

/** Whether a server can listen on `port` of 127.0.0.1 now; it is closed before this resolves. */
function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A port the OS picks. */
function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
