/**
 * `troupe up --feed remote-write`'s input: the metrics receiver (start_receiver.ts) on up's bus,
 * on a well-known port when it is free, asking a bearer token that is generated once and kept in
 * the data directory (mode 0600), so that a Prometheus configured from the written block keeps
 * sending across restarts of `troupe up`.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Bus, checkToken } from "../../protocol/mod.ts";
import { describeError, type NatsAuth } from "../runtime/mod.ts";
import { portOr } from "./preferred_port.ts";
import { receiverLines } from "./receiver_lines.ts";
import { startReceiver } from "./start_receiver.ts";
import type { SeriesPreset } from "../ingest/mod.ts";

/** The receiver's port when it is free. */
export const UP_RECEIVER_PORT = 9201;

/** The file in the data directory that keeps the generated token. */
export const UP_RECEIVER_TOKEN_FILE = "remote-write.token";

/** The receiver's settings as the options give them. */
export interface UpReceiverSettings {
  /** The port asked for; undefined: 9201, or a free one when it is taken. */
  port: number | undefined;
  /** The selectors, checked. */
  match: string[];
  /** The preset narrowing an exporter's series, if any (actors/ingest/node_preset.ts). */
  preset?: SeriesPreset | undefined;
  /** The token given (option or environment); undefined: the data directory's, or a new one. */
  token: string | undefined;
  /** The history URL, checked; undefined: no history. */
  historyUrl: string | undefined;
}

/**
 * `troupe up --feed remote-write`'s input: the receiver, on the port asked or on 9201 (a free one
 * when it is taken), taking the series `--match` selects, asking its bearer token
 * (upReceiverToken); its line printed once it listens, its block written to the data directory.
 * It is the session's only input, so one that cannot start, or whose thread ends unasked, resolves
 * `failed` with the reason (troupe up then stops and exits 1).
 */
export function upReceiver(
  bus: Bus,
  place: {
    nats: string | undefined;
    natsAuth?: NatsAuth | undefined;
    dataDir: string;
    receiver: UpReceiverSettings;
  },
): { stop(): Promise<() => string>; failed: Promise<string> } {
  const { nats, natsAuth, dataDir, receiver: asked } = place;
  let fail: (why: string) => void = () => {};
  const failed = new Promise<string>((resolve) => (fail = resolve));
  const starting = (async () => {
    const port = asked.port ?? await portOr(UP_RECEIVER_PORT);
    const block: Record<string, unknown> = {
      port,
      match: asked.match,
      bearer_token: upReceiverToken(asked, dataDir),
    };
    if (asked.historyUrl !== undefined) block.history_url = asked.historyUrl;
    if (asked.preset !== undefined) block.preset = asked.preset;
    return await startReceiver(block, { nats, natsAuth, bus, name: "troupe-up-receiver" });
  })().then(
    (receiver) => {
      console.log(`troupe up: ${receiverLines(receiver, dataDir)}`);
      void receiver.fatal.then((err) => fail(describeError(err)));
      return receiver;
    },
    (err) => {
      fail(`cannot start the metrics receiver: ${describeError(err)}`);
      return undefined;
    },
  );
  return {
    failed,
    async stop() {
      const receiver = await starting;
      if (!receiver) return () => "no metrics receiver ran";
      const { journaled } = await receiver.close();
      return () => `the metrics receiver journaled ${journaled} samples`;
    },
  };
}

/**
 * The token the receiver asks: the one given, else the one kept in `<dataDir>/remote-write.token`,
 * else a new one (24 random bytes, base64url), kept there.
 */
export function upReceiverToken(settings: UpReceiverSettings, dataDir: string): string {
  if (settings.token !== undefined) return settings.token;
  const path = join(dataDir, UP_RECEIVER_TOKEN_FILE);
  try {
    const kept = readFileSync(path, "utf8").trim();
    if (kept !== "") return checkToken(kept, path);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT") throw err;
  }
  const token = randomBytes(24).toString("base64url");
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return token;
}
