/**
 * Deno's `node:net` can report a read error (`ECONNRESET`) on a socket its owner has already
 * stripped of listeners and destroyed: nats.js does that when a server refuses its credentials
 * and closes the connection, and the error then has no listener and ends the process. Node emits
 * nothing on a socket after `destroy()` but `close`, so on Deno a socket being destroyed with no
 * error listener is given one that drops what comes after, as Node would never emit it.
 */
import net from "node:net";

let installed = false;

/** Installs the guard once (on Deno only; Node needs none). */
export function ignoreErrorsAfterDestroy(): void {
  if (installed || !("Deno" in globalThis)) return;
  installed = true;
  const destroy = net.Socket.prototype.destroy;
  net.Socket.prototype.destroy = function (this: net.Socket, ...args: [Error?]) {
    if (this.listenerCount("error") === 0) this.on("error", () => {});
    return destroy.apply(this, args);
  };
}
