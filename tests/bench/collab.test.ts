/**
 * `troupe bench collab` runs end to end on a few clients: troupe's server and both references
 * each in a process of their own, the clients in another; every row is there with both
 * references as baselines, and every client of troupe's server converged. Figures are not judged
 * here (speed lives in bench/).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { benchmark } from "../../bench/collab.ts";

const test = suite("bench collab");

const ON_DENO = "Deno" in globalThis;
const KINDS = ON_DENO ? ["troupe", "ywss"] : ["troupe", "ywss", "hocuspocus"];

test(`bench collab runs 4 clients against ${KINDS.join(", ")}: every row, each reference a baseline, every client converged`, async () => {
  const lines: string[] = [];
  const secretBefore = process.env.TROUPE_SECRET;
  const args = ["--clients", "4", "--seconds", "1", "--settle", "0.2", "--rounds", "1"];
  const rows = await benchmark.run([...args, "--servers", KINDS.join(",")], {
    log: (m: string) => lines.push(m),
    json: true,
  });
  const metrics = ["fanout_ms_p50_c4", "fanout_ms_p99_c4", "server_rss_mb_c4"];
  assert.equal(rows.map((r) => r.metric), [...metrics, ...metrics, "converged_ratio"]);
  const refs = rows.slice(0, 6).map((r) => r.reference);
  assert.is(new Set(refs).size, 2, `one row set per reference: ${refs.join(", ")}`);
  // Without hocuspocus (Deno) its rows have no baseline.
  for (const [i, r] of rows.slice(0, KINDS.length === 3 ? 6 : 3).entries()) {
    assert.ok(Number.isFinite(r.troupe) && r.troupe > 0, `${i} ${r.metric} troupe ${r.troupe}`);
    assert.ok(
      typeof r.baseline === "number" && Number.isFinite(r.baseline) && r.baseline > 0,
      `${i} ${r.metric} baseline ${r.baseline}`,
    );
  }
  assert.is(rows.at(-1)!.troupe, 1, lines.join("\n"));
  assert.is(process.env.TROUPE_SECRET, secretBefore, "the bench puts TROUPE_SECRET back");
  for (const kind of KINDS) {
    assert.ok(
      lines.some((l) => l.startsWith(`${kind} c4 round 1:`) && l.includes("converged 100.0%")),
      `${kind} converged:\n${lines.join("\n")}`,
    );
  }
});

if (ON_DENO) {
  test("on Deno, bench collab refuses hocuspocus (it does not run there) and says what to run", async () => {
    try {
      await benchmark.run(["--clients", "4"], { log: () => {}, json: true });
      assert.unreachable("it ran");
    } catch (err) {
      assert.match((err as Error).message, "pass --servers troupe,ywss");
    }
  });
}

test.run();
