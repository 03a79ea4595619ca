/**
 * The custom range's fields (collab/web/browser/utc_input.ts): times typed in UTC, the format the
 * fields show (issue 31: a `datetime-local` showed `mm/dd/yyyy, --:-- --` in the browser's locale
 * while the page read it as UTC).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { formatUtcInput, parseUtcInput } from "../../../collab/web/browser/utc_input.ts";

const test = suite("utc input");

test("parseUtcInput() reads YYYY-MM-DD HH:MM[:SS] as UTC, whatever the machine's zone", () => {
  assert.is(parseUtcInput("2026-11-24 13:05", "from"), Date.UTC(2026, 10, 24, 13, 5) / 1000);
  assert.is(parseUtcInput(" 2026-11-24T13:05:09 ", "to"), Date.UTC(2026, 10, 24, 13, 5, 9) / 1000);
  assert.is(parseUtcInput("2024-02-29 00:00", "from"), Date.UTC(2024, 1, 29) / 1000);
});

test("parseUtcInput() names the field and the text it cannot read, or a date that is not one", () => {
  for (
    const bad of ["", "11/24/2026, 01:05 PM", "2026-11-24", "2026-02-30 10:00", "2026-11-24 24:00"]
  ) {
    assert.throws(
      () => parseUtcInput(bad, "from"),
      (err: Error) =>
        err.message === `from ${JSON.stringify(bad)} is not a UTC time YYYY-MM-DD HH:MM`,
      bad,
    );
  }
});

test("formatUtcInput() writes what parseUtcInput() reads back", () => {
  const t = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000;
  assert.is(formatUtcInput(t), "2026-01-02 03:04");
  assert.is(formatUtcInput(t, true), "2026-01-02 03:04:05");
  assert.is(parseUtcInput(formatUtcInput(t, true), "to"), t);
});

test.run();
