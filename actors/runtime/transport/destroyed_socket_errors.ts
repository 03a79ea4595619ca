/**
 * Deno's `node:net` and `node:tls` can report an error on a socket its owner has already stripped
 * of listeners: nats.js removes a socket's listeners when it hands it from one phase to the next
 * (dial, TLS upgrade, close) and destroys it on close, and on Deno a read error (`ECONNRESET` after
 * a server refused the credentials) or a TLS alert (a client certificate the server rejects, which
 * TLS 1.3 sends after the client's handshake is done) can arrive in that gap; with no listener it
 * ends the process. Node does not emit there. So on Deno a socket left with no error listener, by
 * `removeAllListeners()` or at `destroy()`, keeps one that drops the error: its owner still learns
 * of the failure through `close`, as nats.js does.
 */
import net from "node:net";

let installed = false;

/** Installs the guard once (on Deno only; Node needs none). */
export function ignoreErrorsAfterDestroy(): void {
  if (installed || !("Deno" in globalThis)) return;
  installed = true;
  const proto = net.Socket.prototype;
  const keepOne = (socket: net.Socket) => {
    if (socket.listenerCount("error") === 0) socket.on("error", () => {});
  };
  const destroy = proto.destroy;
  proto.destroy = function (this: net.Socket, ...args: [Error?]) {
    keepOne(this);
    return destroy.apply(this, args);
  };
  const removeAll = proto.removeAllListeners;
  proto.removeAllListeners = function (this: net.Socket, ...args: [(string | symbol)?]) {
    const out = removeAll.apply(this, args);
    if (args[0] === undefined || args[0] === "error") keepOne(this);
    return out;
  };
}
