/**
 * A development dependency, loaded when a benchmark needs it: the baselines some benchmarks measure
 * against (trading-signals, @hocuspocus/server, @y/websocket-server) and the browser driver
 * (playwright-core) are devDependencies, which an installed troupe does not ship. A benchmark loads
 * one only through `devPackage`, when it runs, so that `troupe bench --list` and every other
 * benchmark work without it, and a missing one says which benchmark needs it and how to install
 * it. The layout test (tests/layout/imports.test.ts) fails on any other import of one.
 */

/** A development dependency is not installed: names it, who needs it, and how to install it. */
export class DevPackageMissingError extends Error {
  override name = "DevPackageMissingError";
}

/**
 * Loads devDependency `name` through `load` (`() => import("name")`, written out so that the
 * layout test sees it); throws DevPackageMissingError naming `neededBy` when it is not installed.
 */
export async function devPackage<T>(
  name: string,
  load: () => Promise<T>,
  neededBy: string,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const message = String((err as Error)?.message ?? err);
    const code = (err as { code?: string })?.code;
    const missing = code === "ERR_MODULE_NOT_FOUND" ||
      /Cannot find (module|package)|Module not found|not found in import map/i.test(message);
    if (!missing || !message.includes(name)) throw err;
    throw new DevPackageMissingError(
      `${neededBy} needs ${name}, a development dependency that an installed troupe does not ` +
        `ship: run npm install in a checkout of troupe, or npm install --no-save ${name}`,
      { cause: err },
    );
  }
}
