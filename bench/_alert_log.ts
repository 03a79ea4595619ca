/**
 * `troupe bench pages`'s webhook receiver: Alertmanager's receivers post here (`/page` for the
 * pager route, `/info` for alerts below the budget), and every alert of every body is logged with
 * the time it arrived, its route, status, labels and annotations, as an on-call engineer's pager
 * and chat would show them.
 */
import { createServer, type Server } from "node:http";
import { freePort } from "../actors/runtime/mod.ts";
import { parseWebhookPayload, type WebhookAlert } from "../protocol/mod.ts";

/** One alert as a body delivered it. */
export interface LoggedAlert extends WebhookAlert {
  /** `page` or `info`: the route's path. */
  route: string;
  receivedMs: number;
}

/** The paths Alertmanager's receivers post to. */
export const ALERT_ROUTES = ["page", "info"] as const;

/** A webhook receiver that keeps every alert it is posted. */
export class AlertLog {
  readonly alerts: LoggedAlert[] = [];
  /** Bodies refused (not an Alertmanager webhook body), with why. */
  readonly refused: string[] = [];
  readonly #server: Server;
  #port = 0;

  constructor(onAlert: (a: LoggedAlert) => void = () => {}) {
    this.#server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        const receivedMs = Date.now();
        const route = (req.url ?? "").replace(/^\//, "");
        try {
          for (const a of parseWebhookPayload(text).alerts) {
            const logged = { ...a, route, receivedMs };
            this.alerts.push(logged);
            onAlert(logged);
          }
          res.writeHead(200).end("");
        } catch (err) {
          this.refused.push(`${route}: ${(err as Error).message}`);
          res.writeHead(400).end((err as Error).message);
        }
      });
    });
  }

  /** Listens on a free loopback port. */
  async listen(): Promise<this> {
    this.#port = await freePort();
    await new Promise<void>((r) => this.#server.listen(this.#port, "127.0.0.1", r));
    return this;
  }

  /** The URL of a route's receiver. */
  url(route: (typeof ALERT_ROUTES)[number]): string {
    return `http://127.0.0.1:${this.#port}/${route}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections?.();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

/**
 * The alertmanager.yml of the run: pages (`page="true"`) to the pager route, alerts below the
 * budget (`page="false"`) to the info route, grouped as docs/alerting.md's tested route groups
 * them, with its waits shortened so a page's delay is troupe's and not Alertmanager's batching.
 */
export function alertmanagerConfig(log: AlertLog): string {
  return [
    "route:",
    "  receiver: info",
    "  group_by: [alertname, instance, job]",
    "  group_wait: 1s",
    "  group_interval: 5s",
    "  repeat_interval: 4h",
    "  routes:",
    `    - matchers: ['page="true"']`,
    "      receiver: page",
    `    - matchers: ['page="false"']`,
    "      receiver: info",
    "receivers:",
    ...ALERT_ROUTES.flatMap((r) => [
      `  - name: ${r}`,
      "    webhook_configs:",
      `      - url: ${log.url(r)}`,
      "        send_resolved: true",
    ]),
    "",
  ].join("\n");
}
