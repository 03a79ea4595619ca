/// <reference lib="dom" />
/**
 * The threshold editors: the session's `thresholds` (settings per actor kind, or per kind and
 * channel) with the actors' answer beside each (pending, ok, or the refusal's reason), and a form
 * that sets one field. Editing writes the Yjs document only; the collab server's bridge turns the
 * change into a journaled control message. Viewers see the table and a disabled form.
 */
import { parseThresholdKey, type SettingValue } from "../../session_doc.ts";
import { readOnlyNote } from "./readonly_note.ts";
import { byId, el, find } from "./dom.ts";
import type { SessionLink } from "./session_link.ts";

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
    const rows: HTMLElement[] = [];
    for (const key of [...this.#link.sdoc.thresholds.keys()].sort()) {
      const parsed = parseThresholdKey(key);
      if (!parsed) continue;
      const th = this.#link.sdoc.threshold(parsed.kind, parsed.channel);
      if (!th) continue;
      const status = th.status ?? "";
      rows.push(el(
        "tr",
        { "data-key": key, "data-status": status },
        el("td", {}, key),
        el("td", { class: "settings" }, JSON.stringify(th.settings)),
        el("td", {}, th.by),
        el(
          "td",
          { class: `status ${status}`, title: th.reason ?? "" },
          status + (th.reason ? `: ${th.reason}` : ""),
        ),
      ));
    }
    this.#body.replaceChildren(...rows);
  }
}
