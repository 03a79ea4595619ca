/**
 * Test support: a real nats-server per suite, on a free port with JetStream in a temporary
 * directory. Where the binary is missing, suites that need it are skipped with one loud line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer, NatsServer } from "../../actors/runtime/nats_server.ts";

/** Whether nats-server is installed; prints a loud line once when it is not. */
export function haveNatsServer(suiteName: string): boolean {
  if (findNatsServer()) return true;
  console.log(
    `\n  !!! SKIPPED ${suiteName}: nats-server is not installed (apt-get install nats-server) !!!\n`,
  );
  return false;
}

/** Starts a JetStream-enabled nats-server in a fresh temporary store. */
export async function startTestNats(): Promise<NatsServer & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-nats-"));
  const server = await NatsServer.start({ storeDir: join(dir, "js") });
  return Object.assign(server, {
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = "troupe-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
