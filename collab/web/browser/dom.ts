/// <reference lib="dom" />
/**
 * A small element builder for the page's panels: `el("li", { class: "x", onclick }, "text")`.
 * No framework; panels rebuild their few rows when the shared document changes.
 */

type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element with attributes (`on*` become listeners) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

/** The element with `id`, or an error naming it (the HTML shell and the script disagree). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`The dashboard page has no element #${id}`);
  return node as T;
}

/** The first element under `root` matching `selector`, or an error naming it. */
export function find<T extends Element = HTMLElement>(root: ParentNode, selector: string): T {
  const node = root.querySelector(selector);
  if (!node) throw new Error(`The dashboard page has no element ${selector}`);
  return node as T;
}

/** Sets the status badge `#id` (the collab and stream links'): its text, green when `up`. */
export function setStatus(id: string, up: boolean, text: string): void {
  const b = byId(id);
  b.textContent = text;
  b.className = up ? "up" : "down";
}
