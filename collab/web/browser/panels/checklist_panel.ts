/// <reference lib="dom" />
/**
 * The session's checklist (`workflow`): steps with a title, a status and who took them. Ticking a
 * step writes it done (or back to todo) through the Yjs document; viewers see it read-only.
 */
import { readOnlyNote } from "./readonly_note.ts";
import { byId, el, find } from "../dom.ts";
import { newId, type SessionLink } from "../link/mod.ts";

export class ChecklistPanel {
  readonly #link: SessionLink;
  readonly #list: HTMLElement;
  readonly #error = el("div", { class: "error" });

  constructor(link: SessionLink) {
    this.#link = link;
    const root = byId("checklist");
    this.#list = find(root, "ul");
    const off = !link.canWrite;
    const title = el("input", { name: "step", placeholder: "new step", disabled: off });
    const add = el("button", { name: "add-step", disabled: off }, "add");
    add.addEventListener("click", () => {
      try {
        link.sdoc.setStep({
          id: newId("s"),
          title: title.value,
          status: "todo",
          assignee: "",
          due: 0,
        });
        title.value = "";
        this.#error.textContent = "";
      } catch (err) {
        this.#error.textContent = (err as Error).message;
      }
    });
    find(root, ".editor").append(
      el("div", { class: "row" }, title, add),
      this.#error,
      ...readOnlyNote(link.canWrite),
    );
    link.onDoc((sdoc, rebuilt) => {
      sdoc.workflow.observe(() => this.render());
      if (rebuilt) this.render();
    });
    this.render();
  }

  render(): void {
    const off = !this.#link.canWrite;
    this.#list.replaceChildren(
      ...this.#link.sdoc.steps().map((step) => {
        const box = el("input", {
          type: "checkbox",
          checked: step.status === "done",
          disabled: off,
        });
        box.addEventListener("change", () => {
          this.#link.sdoc.setStep({
            ...step,
            status: box.checked ? "done" : "todo",
            assignee: this.#link.me.name,
          });
        });
        return el(
          "li",
          { class: "step", "data-id": step.id, "data-status": step.status },
          box,
          ` ${step.title}`,
          step.assignee ? el("span", { class: "status" }, ` (${step.assignee})`) : "",
        );
      }),
    );
  }
}
