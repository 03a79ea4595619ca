/// <reference lib="dom" />
/**
 * The threshold editors: the session's `thresholds` (settings per actor kind, or per kind and
 * channel) with the actors' answer beside each (pending, ok, or the refusal's reason), what the
 * hosts apply now (the document's `applied` map, from their settings reports: truthful when a
 * change came from `troupe ctl` or a restart, not from this page), and a form that sets one field.
 * Where a field asked for differs from the one applied, the row says so. Editing writes the Yjs
 * document only; the collab server's bridge turns the change into a journaled control message.
 * Viewers see the table and a disabled form.
 */
import {
  appliedEntry,
  appliedMap,
  parseThresholdKey,
  type SettingValue,
} from "../../../session/mod.ts";
import { readOnlyNote } from "./readonly_note.ts";
import { byId, el, find } from "../dom.ts";
import type { SessionLink } from "../link/mod.ts";

/** The actor kinds offered in the form. */
export const EDITABLE_KINDS = ["anomaly", "collapse", "coherence", "stats", "bars"] as const;

/** A typed setting from the form's text: a number, a boolean, or else the text. */
export function parseSetting(text: string): SettingValue {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  if (t !== "" && Number.isFinite(Number(t))) return Number(t);
  return t;
}

export class ThresholdsPanel {
  readonly #link: SessionLink;
  readonly #body: HTMLElement;
  readonly #error = el("div", { class: "error" });

  constructor(link: SessionLink) {
    this.#link = link;
    const root = byId("thresholds");
    this.#body = find(root, "tbody");
    this.#form(find(root, ".editor"));
    link.onDoc((sdoc, rebuilt) => {
      sdoc.thresholds.observeDeep(() => this.render());
      appliedMap(sdoc.doc).observe(() => this.render());
      if (rebuilt) this.render();
    });
    this.render();
  }

  #form(editor: HTMLElement): void {
    const off = !this.#link.canWrite;
    const kind = el(
      "select",
      { name: "kind", disabled: off, "aria-label": "kind" },
      ...EDITABLE_KINDS.map((k) => el("option", {}, k)),
    );
    const channel = el("input", {
      name: "channel",
      placeholder: "channel (all)",
      size: 9,
      disabled: off,
    });
    const field = el("input", {
      name: "field",
      placeholder: "field",
      value: "threshold",
      size: 10,
      disabled: off,
    });
    const value = el("input", { name: "value", placeholder: "value", size: 6, disabled: off });
    const set = el("button", { name: "set", disabled: off }, "set");
    set.addEventListener("click", () => {
      try {
        const ch = channel.value.trim() || undefined;
        const old = this.#link.sdoc.threshold(kind.value, ch)?.settings ?? {};
        this.#link.sdoc.setThreshold(kind.value, ch, {
          ...old,
          [field.value.trim()]: parseSetting(value.value),
        }, this.#link.me.name);
        this.#error.textContent = "";
      } catch (err) {
        this.#error.textContent = (err as Error).message;
      }
    });
    editor.append(el("div", { class: "row" }, kind, channel, field, value, set), this.#error);
    editor.append(...readOnlyNote(this.#link.canWrite));
  }

  render(): void {
    const doc = this.#link.sdoc.doc;
    const keys = new Set([...this.#link.sdoc.thresholds.keys(), ...appliedMap(doc).keys()]);
    const rows: HTMLElement[] = [];
    for (const key of [...keys].sort()) {
      const parsed = parseThresholdKey(key);
      if (!parsed) continue;
      const th = this.#link.sdoc.threshold(parsed.kind, parsed.channel);
      const applied = appliedEntry(doc, key);
      // A kind's whole configuration nobody asked about here is its defaults: not a row.
      if (!th && (!applied || parsed.channel === undefined)) continue;
      const asked = th?.settings ?? {};
      const kindOf = appliedEntry(doc, parsed.kind)?.settings;
      const differs = applied === undefined
        ? []
        : Object.keys(asked).filter((f) => !sameValue(asked[f], applied.settings[f]));
      const status = differs.length > 0 ? "differs" : th?.status ?? "";
      const reason = differs.length > 0
        ? `the hosts apply ${differs.map((f) => `${f}=${show(applied?.settings[f])}`).join(", ")}`
        : th?.reason;
      // What the hosts answered the change: every host's, gathered by the bridge.
      const answered = th?.status === "ok" && th.applied !== undefined
        ? `${th.applied}${th.host ? ` on ${th.host}` : ""}`
        : undefined;
      rows.push(el(
        "tr",
        { "data-key": key, "data-status": status },
        el("td", {}, key),
        el("td", { class: "settings" }, th ? JSON.stringify(asked) : ""),
        el(
          "td",
          { class: "applied", title: applied ? `reported by ${applied.host}` : "" },
          applied ? JSON.stringify(pick(applied.settings, Object.keys(asked), kindOf)) : "",
        ),
        el("td", {}, th?.by ?? ""),
        el(
          "td",
          { class: `status ${status}`, title: reason ?? answered ?? "" },
          status + (reason ? `: ${reason}` : ""),
        ),
      ));
    }
    this.#body.replaceChildren(...rows);
  }
}

/**
 * The fields of `settings` the row asks about; for a channel only the hosts report, those that
 * differ from its kind's (`kind`).
 */
function pick(
  settings: Record<string, unknown>,
  fields: string[],
  kind: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const wanted = fields.length > 0
    ? fields
    : Object.keys(settings).filter((f) => !sameValue(settings[f], kind?.[f]));
  for (const f of wanted) if (f in settings) out[f] = settings[f];
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
