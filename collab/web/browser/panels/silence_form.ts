/// <reference lib="dom" />
/**
 * The incidents panel's silence form: matchers (prefilled from an incident when its silence button
 * is clicked, editable), a duration and a reason, as `troupe incidents silence MATCHERS --for D
 * --reason R` takes them. Bad input is refused before anything is written, with the form's field
 * and the value (`Silence field "duration" must be ..., got "-5m"`), and the field is marked
 * invalid; the session document checks the entry again. A viewer sees the form with every control
 * disabled (the panel says "read-only").
 */
import {
  formatSilenceMatchers,
  type Incident,
  parseSilenceMatchers,
  ProtocolError,
  SILENCE_DURATION_US_MAX,
} from "../../../../protocol/mod.ts";
import { parseTtl } from "../../../session/mod.ts";
import { el } from "../dom.ts";

/** What a valid form gives: canonical matcher text, a duration and a reason. */
export interface SilenceFormValue {
  matchers: string;
  duration_ms: number;
  reason: string;
}

/** The form's fields, by the name each input carries. */
export const SILENCE_FORM_FIELDS = ["matchers", "duration", "reason"] as const;
type Field = (typeof SILENCE_FORM_FIELDS)[number];

/** The duration the form starts with. */
export const SILENCE_FORM_DURATION = "2h";

/** A refusal of one field of the form. */
export class SilenceFormError extends Error {
  override name = "SilenceFormError";
  readonly field: Field;

  constructor(field: Field, message: string) {
    super(message);
    this.field = field;
  }
}

/**
 * Matchers that hold for `incident`: its kind, and its members' channel (one member), or a glob of
 * their common prefix (several); no channel term when they share none.
 */
export function incidentMatchers(incident: Incident): string {
  const channels = incident.members.map((m) => m.channel);
  if (channels.length === 1) return `kind=${incident.kind} channel=${channels[0]}`;
  let prefix = channels[0] ?? "";
  for (const c of channels) while (!c.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix === "" ? `kind=${incident.kind}` : `kind=${incident.kind} channel=~${prefix}*`;
}

/** Checks the form's text; throws a SilenceFormError naming the field and the value. */
export function checkSilenceForm(input: Record<Field, string>): SilenceFormValue {
  let matchers: string;
  try {
    matchers = formatSilenceMatchers(parseSilenceMatchers(input.matchers, "matchers"));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw new SilenceFormError("matchers", err.message);
  }
  let seconds: number;
  try {
    seconds = parseTtl(input.duration);
  } catch (err) {
    throw new SilenceFormError("duration", `Silence field "duration" ${(err as Error).message}`);
  }
  const duration_ms = Math.round(seconds * 1000);
  if (duration_ms * 1000 > SILENCE_DURATION_US_MAX) {
    throw new SilenceFormError(
      "duration",
      `Silence field "duration" must be at most 30d, got "${input.duration}"`,
    );
  }
  const reason = input.reason.trim();
  if (reason === "") {
    throw new SilenceFormError(
      "reason",
      `Silence field "reason" must say why (1 or more characters), got "${input.reason}"`,
    );
  }
  return { matchers, duration_ms, reason };
}

/** The form, for the panel to place; `onSubmit` writes the silence (and may throw, shown too). */
export class SilenceForm {
  readonly element: HTMLFormElement;
  readonly #inputs: Record<Field, HTMLInputElement>;
  readonly #error = el("div", { class: "error", role: "alert" });

  constructor(canWrite: boolean, onSubmit: (value: SilenceFormValue) => void) {
    const input = (name: Field, label: string, value: string, placeholder: string) =>
      el("input", {
        name,
        "aria-label": label,
        value,
        placeholder,
        disabled: !canWrite,
      });
    this.#inputs = {
      matchers: input("matchers", "matchers", "", "kind=anomaly channel=~SYM*"),
      duration: input("duration", "duration", SILENCE_FORM_DURATION, "2h"),
      reason: input("reason", "reason", "", "why (required)"),
    };
    this.#inputs.matchers.size = 28;
    this.#inputs.duration.size = 5;
    const submit = el(
      "button",
      { type: "submit", name: "add-silence", disabled: !canWrite },
      "add",
    );
    this.element = el(
      "form",
      { class: "silence-form row", "aria-label": "new silence" },
      this.#inputs.matchers,
      this.#inputs.duration,
      this.#inputs.reason,
      submit,
      this.#error,
    );
    this.element.addEventListener("submit", (e) => {
      e.preventDefault();
      if (canWrite) this.#submit(onSubmit);
    });
  }

  /**
   * Fills the matchers from `incident` (the duration and reason are kept) and asks for a reason.
   */
  prefill(incident: Incident): void {
    this.#inputs.matchers.value = incidentMatchers(incident);
    this.#clear();
    this.#inputs.reason.focus();
  }

  #submit(onSubmit: (value: SilenceFormValue) => void): void {
    this.#clear();
    try {
      onSubmit(checkSilenceForm({
        matchers: this.#inputs.matchers.value,
        duration: this.#inputs.duration.value,
        reason: this.#inputs.reason.value,
      }));
    } catch (err) {
      const field = err instanceof SilenceFormError ? err.field : undefined;
      if (field) this.#inputs[field].setAttribute("aria-invalid", "true");
      this.#error.textContent = (err as Error).message;
      if (field) this.#error.dataset.field = field;
      // The refusal in the panel's view, wherever its inner scroll stood.
      this.#error.scrollIntoView({ block: "nearest" });
      return;
    }
    this.#inputs.reason.value = "";
  }

  #clear(): void {
    for (const i of Object.values(this.#inputs)) i.removeAttribute("aria-invalid");
    this.#error.textContent = "";
    delete this.#error.dataset.field;
  }
}
