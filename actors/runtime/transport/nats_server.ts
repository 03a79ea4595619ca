/**
 * Starts and stops a `nats-server` child process with JetStream: used by `troupe up`, by tests
 * (each starts its own on a free port) and by benchmarks. The binary is looked up on PATH and in
 * the places Debian and Homebrew put it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { freePort } from "./free_port.ts";

/** Where `nats-server` is, or undefined when it is not installed. */
export function findNatsServer(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of [...dirs, "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin"]) {
    const path = join(dir, "nats-server");
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Options of `startNatsServer`. */
export interface NatsServerOptions {
  /** The JetStream store directory; JetStream is on when it is given. */
  storeDir?: string;
  /** The port; a free one when absent. */
  port?: number;
  /** The binary; found on PATH when absent. */
  binary?: string;
  /** Milliseconds to wait for the server to be ready. */
  readyTimeoutMs?: number;
  /** Extra command-line arguments. */
  args?: string[];
  /**
   * Start it in a process group of its own (default false). A terminal's Ctrl-C goes to every
   * process of the foreground group: in the parent's, the server would stop at once, before the
   * parent has drained through it. Detached, it hears only the parent, which must stop it.
   */
  detached?: boolean;
}

/** How much of the end of a server's output is kept (`logTail`). */
const TAIL_CHARS = 8192;
/** Free ports tried, one after another, when the server finds the one it was given taken. */
const PORT_ATTEMPTS = 4;

/** A running nats-server. */
export class NatsServer {
  readonly url: string;
  readonly port: number;
  readonly options: NatsServerOptions;
  #child: ChildProcess;
  #exited: Promise<number | null>;
  #log: string[] = [];
  /** The last of what it printed (up to `TAIL_CHARS`), which a crash's reason ends. */
  #tail = "";

  private constructor(port: number, options: NatsServerOptions, child: ChildProcess) {
    this.port = port;
    this.url = `nats://127.0.0.1:${port}`;
    this.options = options;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** Starts a server and resolves once it accepts clients. */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const binary = options.binary ?? findNatsServer();
    if (!binary) {
      throw new Error(
        "Cannot start nats-server: the binary is not on PATH (Debian/Ubuntu: apt-get install " +
          "nats-server; macOS: brew install nats-server)",
      );
    }
    if (options.port !== undefined) return await NatsServer.#spawn(binary, options.port, options);
    // A port found free may be bound by another program before the server binds it: another
    // free port is tried then, as the port was this method's choice.
    for (let attempt = 1;; attempt++) {
      try {
        return await NatsServer.#spawn(binary, await freePort(), options);
      } catch (err) {
        const taken = String((err as Error).message).includes("address already in use");
        if (!taken || attempt >= PORT_ATTEMPTS) throw err;
      }
    }
  }

  /** Starts `binary` on `port` and resolves once it is ready; rejects with what it printed. */
  static async #spawn(binary: string, port: number, options: NatsServerOptions) {
    const args = ["-a", "127.0.0.1", "-p", String(port), ...(options.args ?? [])];
    if (options.storeDir) {
      mkdirSync(options.storeDir, { recursive: true });
      args.push("-js", "-sd", options.storeDir);
    }
    const child = spawn(binary, args, {
      stdio: ["ignore", "ignore", "pipe"],
      detached: options.detached ?? false,
    });
    const server = new NatsServer(port, { ...options, binary, port }, child);
    await server.#ready(options.readyTimeoutMs ?? 10_000, args.includes("--cluster"));
    return server;
  }

  /**
   * Resolves once the server says it is ready and, in a cluster (`routed`), listens for routes:
   * nats-server says it is ready before it binds its route port, and exits if that port is taken.
   */
  #ready(timeoutMs: number, routed: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let text = "";
      const timer = setTimeout(() => {
        this.#signal("SIGKILL");
        reject(
          new Error(`nats-server on port ${this.port} was not ready in ${timeoutMs} ms:\n${text}`),
        );
      }, timeoutMs);
      this.#child.stderr!.on("data", (chunk: Buffer) => {
        const s = chunk.toString();
        if (this.#log.length < 200) this.#log.push(s);
        this.#tail = (this.#tail + s).slice(-TAIL_CHARS);
        text += s;
        const ready = text.includes("Server is ready") &&
          (!routed || text.includes("Listening for route connections"));
        if (ready) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with code ${code} before it was ready:\n${text}`));
      });
      this.#child.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** The process id of the server. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** What the server printed so far (its first lines). */
  get log(): string {
    return this.#log.join("");
  }

  /** The last of what the server printed (a few kilobytes). */
  get logTail(): string {
    return this.#tail;
  }

  /** How the server ended (`code 1`, `signal SIGKILL`), or undefined while it runs. */
  get ended(): string | undefined {
    if (this.#child.exitCode !== null) return `code ${this.#child.exitCode}`;
    if (this.#child.signalCode !== null) return `signal ${this.#child.signalCode}`;
    return undefined;
  }

  /** Stops the server gracefully (SIGTERM), then forcibly after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#signal("SIGTERM");
    const timer = setTimeout(() => this.#signal("SIGKILL"), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#signal("SIGKILL");
    await this.#exited;
  }

  /**
   * Sends `name` to the server by its pid. Not `ChildProcess.kill()`: on Deno it sends nothing once
   * a signal has been sent, so a SIGKILL after a SIGTERM the server did not heed was lost.
   */
  #signal(name: "SIGTERM" | "SIGKILL"): void {
    const pid = this.#child.pid;
    if (pid === undefined || this.#child.exitCode !== null || this.#child.signalCode !== null) {
      return;
    }
    try {
      process.kill(pid, name);
    } catch (err) {
      if ((err as { code?: string }).code !== "ESRCH") throw err; // gone already
    }
  }

  /** Stops this server and starts another on the same port and store directory. */
  async restart(): Promise<NatsServer> {
    await this.stop();
    return NatsServer.start(this.options);
  }
}

/** Makes a directory (and its parents) and returns its path. */
export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
