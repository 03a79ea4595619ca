/**
 * Where the token secret comes from: `TROUPE_SECRET` (one or more secrets separated by commas,
 * the first signs; rotation keeps the old ones after it), or else the file `collab.secret` in
 * the data directory, created once with 32 random bytes and owner-only permissions (0600).
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Keyring } from "../session/mod.ts";

/** The secret file's name in the data directory. */
export const SECRET_FILE = "collab.secret";

/** Options of `loadKeyring`. */
export interface LoadKeyringOptions {
  /** The data directory that holds (or will hold) `collab.secret`. */
  dataDir: string;
  /** The value of TROUPE_SECRET (default: the process environment's). */
  envSecret?: string | undefined;
}

/** The keyring of TROUPE_SECRET, or of the data directory's secret file (created when absent). */
export async function loadKeyring(options: LoadKeyringOptions): Promise<Keyring> {
  const env = "envSecret" in options ? options.envSecret : process.env.TROUPE_SECRET;
  if (env !== undefined && env !== "") {
    const secrets = env.split(",").map((s) => new TextEncoder().encode(s.trim()));
    try {
      return await Keyring.fromSecrets(secrets);
    } catch (err) {
      throw new TypeError(`TROUPE_SECRET: ${(err as Error).message}`);
    }
  }
  const path = join(options.dataDir, SECRET_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
    const mode = statSync(path).mode & 0o777;
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      throw new TypeError(
        `Token secret ${path} must be readable by its owner only (mode 600), got ${
          mode.toString(8)
        }`,
      );
    }
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
    mkdirSync(options.dataDir, { recursive: true });
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    text = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    // "wx": never overwrite a secret another process created meanwhile.
    try {
      writeFileSync(path, text + "\n", { mode: 0o600, flag: "wx" });
      chmodSync(path, 0o600);
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
      text = readFileSync(path, "utf8");
    }
  }
  const secrets = text.split(/[\n,]/).map((s) => s.trim()).filter((s) => s !== "");
  return await Keyring.fromSecrets(secrets.map((s) => new TextEncoder().encode(s)));
}
