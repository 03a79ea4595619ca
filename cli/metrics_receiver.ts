/**
 * What a command prints of a metrics receiver (actors/cluster/start_receiver.ts): its line, and
 * the `remote_write` block for prometheus.yml, printed, or, when it holds the receiver's
 * credentials, written to a file of the data directory whose path is printed; and `troupe up
 * --feed remote-write`'s receiver, the session's input.
 */
import { describeError, type NatsAuth } from "../actors/runtime/mod.ts";
import { type StartedReceiver, startReceiver } from "../actors/cluster/mod.ts";
import { portOr } from "../actors/cluster/mod.ts";
import type { Bus } from "../protocol/mod.ts";
import { writeReceiverBlock } from "../actors/cluster/data_dir/mod.ts";
import { UP_RECEIVER_PORT, type UpReceiverSettings, upReceiverToken } from "./up_receiver.ts";

/**
 * What a command prints of a started receiver: its line, and the block to paste, or, when the
 * block holds a secret, where in `dataDir` it is written for the user to copy from.
 */
export function receiverLines(receiver: StartedReceiver, dataDir: string): string {
  if (!receiver.secret) return `${receiver.line}\n${receiver.block}`;
  let path: string;
  try {
    path = writeReceiverBlock(dataDir, receiver.block);
  } catch (err) {
    // The receiver runs on: only the block, which holds a secret, is not shown.
    return `${receiver.line}; cannot write the remote_write block for prometheus.yml to ` +
      `${dataDir}: ${describeError(err)}`;
  }
  return `${receiver.line}; the remote_write block for prometheus.yml, with the receiver's ` +
    `credentials, is in ${path} (readable by this user only)`;
}

/**
 * `troupe up --feed remote-write`'s input: the receiver, on the port asked or on 9201 (a free one
 * when it is taken), taking the series `--match` selects, asking its bearer token (up_receiver.ts);
 * its line printed once it listens, its block written to the data directory. It is the session's
 * only input, so one that cannot start, or whose thread ends unasked, resolves `failed` with the
 * reason (troupe up then stops and exits 1).
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
