/** The error of a CSV source that cannot be read at all. */

/** A file that cannot be read as CSV at all (unreadable, too large, an unknown header). */
export class CsvFormatError extends Error {
  override name = "CsvFormatError";
  readonly source: string;
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.source = source;
  }
}
