/**
 * Debian's VictoriaMetrics as a benchmark starts it: on a free loopback port, its data in a
 * directory of the benchmark's, ready when it answers `/health`, and stopped with SIGKILL (its
 * data is the benchmark's scratch).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "../actors/runtime/mod.ts";
import { ready } from "./_remote_write_send.ts";

const VM_BIN = "/usr/bin/victoria-metrics";

/** A running VictoriaMetrics. */
export interface VictoriaMetrics {
  /** Its base URL (`http://127.0.0.1:<port>`). */
  url: string;
  pid: number | undefined;
  /** Kills it and waits for its exit (nothing when it has exited). */
  stop(): Promise<void>;
}

/** Throws, naming the package, when VictoriaMetrics is not installed. */
export function needVictoriaMetrics(bench: string): void {
  if (!existsSync(VM_BIN)) {
    throw new Error(
      `Cannot run bench ${bench}: ${VM_BIN} is missing (apt-get install victoria-metrics)`,
    );
  }
}

/** Starts VictoriaMetrics with its data in `dataPath`, and waits until it is ready. */
export async function startVictoriaMetrics(dataPath: string): Promise<VictoriaMetrics> {
  const port = await freePort();
  const vm: ChildProcess = spawn(VM_BIN, [
    `-storageDataPath=${dataPath}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    "-loggerLevel=ERROR",
  ], { stdio: "ignore" });
  const stop = async () => {
    if (vm.exitCode !== null || vm.signalCode !== null) return;
    const exited = new Promise((resolve) => vm.once("exit", resolve));
    vm.kill("SIGKILL");
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await ready(`${url}/health`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: vm.pid, stop };
}
