/**
 * Decides whether a client's update may reach a room's document before it does: the update is
 * applied to a copy of the document first (kept in step with it: every change the document takes
 * from elsewhere is applied to the copy too), and what it changed there is checked against the
 * session schema (session_schema.ts). A refused update leaves the copy rebuilt from the document,
 * so it never holds what the document does not. Yjs cannot take a change back once applied, hence
 * the copy: it costs a second apply per update and a second copy of each loaded document.
 */
import * as Y from "yjs";
import { checkChanged, type RootSchema, SESSION_SCHEMA, SessionDocError } from "../session/mod.ts";

/** An editor's write that does not fit the schema; `reason` names the field and the value. */
export class WriteRefusedError extends Error {
  override name = "WriteRefusedError";
  constructor(message: string, options?: { cause: SessionDocError }) {
    super(message, options);
  }
}

export class SchemaGate {
  readonly #doc: Y.Doc;
  readonly #schema: Readonly<Record<string, RootSchema>>;
  #copy: Y.Doc;
  /** Whether the copy's transactions are checked (while an editor's update is applied). */
  #checking = false;
  /** The first refusal of the update being applied. */
  #refusal: SessionDocError | undefined;
  #updated = false;

  constructor(doc: Y.Doc, schema: Readonly<Record<string, RootSchema>> = SESSION_SCHEMA) {
    this.#doc = doc;
    this.#schema = schema;
    this.#copy = this.#rebuild();
  }

  /** Applies to the copy a change the document took without a check (the server's, a peer's). */
  mirror(update: Uint8Array): void {
    Y.applyUpdate(this.#copy, update);
  }

  /**
   * Applies an editor's `update` to the copy and checks what it changed; throws WriteRefusedError
   * (the copy rebuilt) when it does not fit. The caller then applies it to the document.
   */
  admit(update: Uint8Array): void {
    this.#checking = true;
    try {
      this.#apply(update);
    } finally {
      this.#checking = false;
    }
    const refusal = this.#refusal;
    if (refusal) {
      this.#copy = this.#rebuild();
      throw new WriteRefusedError(refusal.message, { cause: refusal });
    }
  }

  /**
   * Whether `update` would change the document (new content, a deletion not yet made, or
   * content waiting for what it depends on); the copy is left as the document is. A viewer's
   * write is probed so: the stock client's sync step 2 carries every deletion it knows, which
   * changes nothing.
   */
  probe(update: Uint8Array): boolean {
    const pendingBefore = pendingBytes(this.#copy);
    this.#apply(update);
    const changes = this.#updated || pendingBytes(this.#copy) !== pendingBefore;
    if (changes) this.#copy = this.#rebuild();
    return changes;
  }

  /** Drops the copy's waiting content, as the room drops the document's (Room#boundPending). */
  dropPending(): void {
    this.#copy.store.pendingStructs = null;
    this.#copy.store.pendingDs = null;
  }

  /** Frees the copy. */
  destroy(): void {
    this.#copy.destroy();
  }

  #apply(update: Uint8Array): void {
    this.#refusal = undefined;
    this.#updated = false;
    Y.applyUpdate(this.#copy, update);
  }

  /** A fresh copy of the document, with its top-level types as the schema says and its waiting
   *  content. */
  #rebuild(): Y.Doc {
    const copy = new Y.Doc({ gc: this.#doc.gc });
    for (const [name, s] of Object.entries(this.#schema)) {
      if (s.type === "map") copy.getMap(name);
      else if (s.type === "array") copy.getArray(name);
      else copy.getText(name);
    }
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(this.#doc));
    const { pendingStructs, pendingDs } = this.#doc.store;
    if (pendingStructs) Y.applyUpdate(copy, pendingStructs.update);
    if (pendingDs) Y.applyUpdate(copy, pendingDs);
    copy.on("afterTransaction", (tr: Y.Transaction) => {
      // Read off the transaction, not from an "update" listener: with one, Yjs encodes an update
      // of every transaction of the copy.
      if (!this.#updated && changedAnything(tr)) this.#updated = true;
      if (!this.#checking || this.#refusal || tr.changed.size === 0) return;
      try {
        checkChanged(tr, this.#schema);
      } catch (err) {
        // A check that fails otherwise than it should still refuses the write, never the server.
        this.#refusal = err instanceof SessionDocError
          ? err
          : new SessionDocError("", `Session document check failed: ${(err as Error).message}`);
      }
    });
    return copy;
  }
}

/** Whether a transaction inserted or deleted anything (what makes Yjs emit an update). */
function changedAnything(tr: Y.Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true;
  for (const [client, clock] of tr.afterState) {
    if ((tr.beforeState.get(client) ?? 0) !== clock) return true;
  }
  return false;
}

function pendingBytes(doc: Y.Doc): number {
  return (doc.store.pendingStructs?.update.length ?? 0) + (doc.store.pendingDs?.length ?? 0);
}
