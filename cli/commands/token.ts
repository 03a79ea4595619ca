/**
 * `troupe token`: mints a signed session token for the collaboration server, with the secret of
 * TROUPE_SECRET or of the data directory's `collab.secret` (created once, mode 0600), so that a
 * server started on the same data directory accepts it.
 */
import { loadKeyring, mintToken, parseTtl, type Role, ROLES } from "../../collab/mod.ts";
import { type Command, EXIT_FAILURE, flag, str, text, UsageError } from "../args.ts";

export const command: Command = {
  name: "token",
  summary: "mint a signed session token for the collaboration server",
  usage: "--session S [--role viewer|editor|owner] [--ttl 8h] [--data-dir DIR] [--json]",
  options: {
    session: {
      type: "string",
      arg: "S",
      help: "The session (room) the token opens (required; troupe up's is main)",
    },
    role: { type: "string", arg: "ROLE", help: "viewer, editor or owner", default: "editor" },
    ttl: { type: "string", arg: "T", help: "Validity: 90s, 30m, 8h, 7d", default: "8h" },
    "data-dir": {
      type: "string",
      arg: "DIR",
      help: "Where collab.secret lives unless TROUPE_SECRET is set",
      default: ".troupe",
    },
    json: { type: "boolean", help: "Print { token, session, role, exp } as JSON" },
  },
  details: `Examples:
  troupe token --session main --role viewer          a read-only link to troupe up's dashboard
  troupe token --session ops --ttl 7d --json
The server checks the token at the WebSocket upgrade: ws://HOST:PORT/collab/<session>?token=<token>
(the y-websocket client's params: { token }); the dashboard takes it as
http://HOST:PORT/?session=<session>&token=<token>.`,
  async run(args) {
    const session = str(args, "session");
    if (session === undefined) throw new UsageError("Option --session is required");
    const role = text(args, "role") as Role;
    if (!ROLES.includes(role)) {
      throw new UsageError(`Option --role must be one of ${ROLES.join(", ")}, got "${role}"`);
    }
    let ttlS: number;
    try {
      ttlS = parseTtl(text(args, "ttl"));
    } catch (err) {
      throw new UsageError(`Option --ttl ${(err as Error).message}`);
    }
    let keyring: Awaited<ReturnType<typeof loadKeyring>>;
    try {
      keyring = await loadKeyring({ dataDir: text(args, "data-dir") });
    } catch (err) {
      // A short TROUPE_SECRET, a secret file others can read: one line, as troupe collab says it.
      console.error(`troupe token: ${(err as Error).message}`);
      return EXIT_FAILURE;
    }
    const nowMs = Date.now();
    let token: string;
    try {
      token = await mintToken(keyring, { session, role, ttlS, nowMs });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (flag(args, "json")) {
      const exp = Math.floor(nowMs / 1000 + ttlS);
      console.log(JSON.stringify({ token, session, role, exp }));
    } else console.log(token);
    return 0;
  },
};
