/** The error the test kit's checks throw: what failed, at which frame and output, and how. */

/** A check of the test kit that failed. */
export class KindCheckError extends Error {
  override name = "KindCheckError";
}
