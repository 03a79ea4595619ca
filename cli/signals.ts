/**
 * Waiting for Ctrl-C (SIGINT) or SIGTERM, so long-running commands drain and stop cleanly. A
 * second signal while stopping exits at once.
 */
import process from "node:process";

/** Resolves with the name of the first SIGINT or SIGTERM, or "timeout" after `ms`. */
export function waitForSignal(ms?: number): Promise<string> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (name: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      if (timer) clearTimeout(timer);
      const again = () => {
        console.error("troupe: second signal, exiting now");
        process.exit(130);
      };
      process.once("SIGINT", again);
      process.once("SIGTERM", again);
      resolve(name);
    };
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    if (ms !== undefined) timer = setTimeout(() => done("timeout"), ms);
  });
}
