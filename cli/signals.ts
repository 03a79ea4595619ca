/**
 * Waiting for Ctrl-C (SIGINT) or SIGTERM, so long-running commands drain and stop cleanly; in a
 * terminal, its closing (SIGHUP) too. A second signal while stopping exits at once. The listeners
 * stay installed for the life of the process: removing them would hand a late signal to the
 * default action, which kills the process mid-drain.
 */
import process from "node:process";

let waiters: Array<(name: string) => void> = [];
let signalled = 0;
let installed = false;
/**
 * A first signal that came while nothing waited (during a start-up): the next wait ends at once.
 */
let pending: string | undefined;

/**
 * Takes SIGINT and SIGTERM from now on. A command that starts things (troupe up: nats-server in a
 * process group of its own) calls it first, so that a Ctrl-C during its start-up is kept until it
 * waits, and then stops it cleanly, rather than killing the process and leaving what it started.
 */
export function catchSignals(): void {
  if (installed) return;
  installed = true;
  const on = (name: string) => {
    signalled++;
    if (signalled > 1 && waiters.length === 0) {
      console.error("troupe: second signal, exiting now");
      process.exit(130);
    }
    if (waiters.length === 0) {
      pending = name;
      return;
    }
    const current = waiters;
    waiters = [];
    for (const resolve of current) resolve(name);
  };
  process.on("SIGINT", () => on("SIGINT"));
  process.on("SIGTERM", () => on("SIGTERM"));
  // A closed terminal would kill the process mid-write and leave what it started in a process
  // group of its own (troupe up's nats-server) running. Only with a terminal on stdin: nohup
  // takes it away, and a listener would undo nohup's ignoring of SIGHUP.
  if (process.platform !== "win32" && process.stdin.isTTY) {
    process.on("SIGHUP", () => on("SIGHUP"));
  }
}

/**
 * Resolves with the name of the first SIGINT or SIGTERM (at once for one kept since
 * `catchSignals`), or "timeout" after `ms`.
 */
export function waitForSignal(ms?: number): Promise<string> {
  catchSignals();
  if (pending !== undefined) {
    const name = pending;
    pending = undefined;
    return Promise.resolve(name);
  }
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (name: string) => {
      if (timer) clearTimeout(timer);
      resolve(name);
    };
    waiters.push(done);
    if (ms !== undefined) {
      timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== done);
        signalled++; // a signal after this point means "stop now"
        done("timeout");
      }, ms);
    }
  });
}
