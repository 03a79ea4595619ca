/**
 * A well-known port when it is free, a free one otherwise: how a cluster on one machine (`troupe
 * up`) puts NATS, the collab server, the metrics receiver and the host's HTTP where their users
 * look first, without failing when another program holds the port.
 */
import { freePort } from "../runtime/mod.ts";

/**
 * Starts what `start` starts on `preferred` when it is free, else on a free port; also when
 * `preferred` was free when looked at but taken before `start` bound it (another troupe up
 * starting at the same moment: the test suite's two runtimes did).
 */
export async function onPreferredPort<T>(
  preferred: number,
  start: (port: number) => Promise<T>,
): Promise<T> {
  const port = await portOr(preferred);
  try {
    return await start(port);
  } catch (err) {
    const message = `${(err as Error).message} ${(err as { code?: string }).code ?? ""}`;
    if (port !== preferred || !/EADDRINUSE|address already in use/i.test(message)) throw err;
    return await start(await freePort());
  }
}

/** `preferred` when nothing listens on it on the loopback, else a free port. */
export async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => freePort().then(resolve));
    server.listen(preferred, "127.0.0.1", () => server.close(() => resolve(preferred)));
  });
}
