/**
 * Where labels over overlapping spans go: each on the first row (from the top) where it clears
 * every label already placed there, as a chart tool stacks the labels of overlapping annotations
 * rather than writing one over another. Pure: pixels in, rows out.
 */

/** A label to place: its left edge and width, pixels. */
export interface LabelSpan {
  x: number;
  width: number;
}

/** How many rows labels may take, and the least gap between two on a row (pixels). */
export interface LabelRowsOptions {
  rowsMax: number;
  gapPx: number;
}

/**
 * The row of each label, in order (0 the top), each on the first row where it clears the labels
 * there by `gapPx`; a label that clears none of `rowsMax` rows gets -1 (not drawn: the card's
 * legend names every incident all the same).
 */
export function labelRows(labels: readonly LabelSpan[], o: LabelRowsOptions): number[] {
  const rows: LabelSpan[][] = [];
  return labels.map((l) => {
    const clear = (row: LabelSpan[]) =>
      row.every((p) => l.x >= p.x + p.width + o.gapPx || l.x + l.width + o.gapPx <= p.x);
    let r = rows.findIndex(clear);
    if (r < 0 && rows.length < o.rowsMax) r = rows.push([]) - 1;
    if (r >= 0) rows[r]!.push(l);
    return r;
  });
}
