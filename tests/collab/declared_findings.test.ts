/**
 * The declared finding kinds the collab server writes into the dashboard's page, and the page's
 * reading of them: what is written registers again as it was, a declaration's check stays behind,
 * and no text in a declaration can close the element.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  declaredFindings,
  declaredFindingsTag,
  registerDeclaredFindings,
} from "../../collab/web/mod.ts";
import { findingActorOf, findingKindOf, registerKindFindings } from "../../protocol/mod.ts";

const test = suite("declared findings in the page");

test("the page's element registers the server's declarations again: types, actors, scales", () => {
  registerKindFindings("gauge_pair", [{
    type: "gauge_gap",
    measure: "gap",
    edges: [1, 2, 3, 4],
    unit: "</script><b>",
    channelField: "pair",
    check: (b) => b as object,
  }]);
  const list = declaredFindings();
  const gap = list.find((d) => d.kind.type === "gauge_gap")!;
  assert.equal(gap, {
    actor: "gauge_pair",
    kind: {
      type: "gauge_gap",
      measure: "gap",
      edges: [1, 2, 3, 4],
      unit: "</script><b>",
      channelField: "pair",
    },
  });
  assert.ok(list.some((d) => d.actor === "anomaly" && d.kind.type === "anomaly"));
  const tag = declaredFindingsTag(list);
  const json = tag.match(
    /^<script type="application\/json" id="troupe-finding-kinds">(.*)<\/script>$/,
  )![1]!;
  assert.not.match(json, "<", "no text closes the element");
  // Registering what was written changes nothing here (the same declarations) and names the actors.
  const actors = registerDeclaredFindings(json);
  assert.ok(actors.includes("gauge_pair") && actors.includes("anomaly"), actors.join(","));
  assert.is(findingActorOf("gauge_gap"), "gauge_pair");
  assert.is(findingKindOf("gauge_gap")!.unit, "</script><b>");
  assert.equal(registerDeclaredFindings("not json"), []);
});

test.run();
