/**
 * `GET /incidents` on the collab server: every incident of its incident log (incident_log.ts:
 * the latest copy of each id seen on the wire, seeded from the incident stage's list), so that a
 * fresh dashboard page's incidents panel starts from the incidents open now, however long ago they
 * opened and whenever the server started, rather than from what the stream gateway's recent
 * buffer happens to hold. The answer is the wire type of the stage's own list
 * (`encodeIncidentList` of `protocol/incident.ts`), the one updated longest ago first. The token is
 * the stream gateway's (any session, any role: reading writes nothing).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeIncidentList } from "../../protocol/mod.ts";
import type { IncidentLog } from "./incident_log.ts";
import { type Keyring, TokenError, verifyToken } from "../session/mod.ts";

/** The path the service answers. */
export const INCIDENT_LIST_PATH = "/incidents";

/** Options of an IncidentListService. */
export interface IncidentListServiceOptions {
  incidents: IncidentLog;
  keyring: Keyring;
  /** Milliseconds since the epoch (token expiry). */
  now?(): number;
}

/** Answers `GET /incidents?token=T`. */
export class IncidentListService {
  readonly #options: IncidentListServiceOptions;
  #answers = 0;

  constructor(options: IncidentListServiceOptions) {
    this.#options = options;
  }

  /** Answers one request: 200 with the list, 401 without a valid token, 405 but for GET. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = (status: number, message: string) => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      res.end(message + "\n");
    };
    if (req.method !== "GET") {
      return text(405, `Method ${req.method} not allowed on ${INCIDENT_LIST_PATH}: use GET`);
    }
    const nowMs = (this.#options.now ?? Date.now)();
    const url = new URL(req.url ?? "/", "http://collab");
    try {
      const token = url.searchParams.get("token");
      await verifyToken(this.#options.keyring, token, { session: null, nowMs });
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      return text(401, err.message);
    }
    const bytes = encodeIncidentList(
      { id: `collab-incidents-${++this.#answers}`, src: "troupe-collab", ts: nowMs * 1000 },
      this.#options.incidents.all(),
    );
    res.writeHead(200, {
      "content-type": "application/msgpack",
      "content-length": String(bytes.byteLength),
      "cache-control": "no-store",
    });
    res.end(bytes);
  }
}
