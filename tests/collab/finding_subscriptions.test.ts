/**
 * The gateway subscriptions `troupe watch` makes: the incidents of the declared kinds; or their
 * findings, filtered by channel on the gateway, and the other kinds' findings beside them.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { findingSubscriptions } from "../../collab/mod.ts";
// troupe's own kinds declare their findings as they load: anomaly's among them.
import "../../actors/mod.ts";

const test = suite("finding subscriptions");

test("findingSubscriptions() without findings follows the declared kinds' incidents only", () => {
  const kinds = ["anomaly", "dlq"];
  assert.equal(findingSubscriptions({ findings: false, kinds, channel: "SYM*" }), [
    { subjects: ["troupe.out.incident.anomaly"] },
  ]);
  assert.equal(findingSubscriptions({ findings: false, kinds: ["dlq"], channel: undefined }), []);
});

test("findingSubscriptions() with findings filters the declared kinds by channel, not the others", () => {
  const kinds = ["anomaly", "dlq", "actor"];
  assert.equal(findingSubscriptions({ findings: true, kinds, channel: "SYM*" }), [
    { subjects: ["troupe.finding.anomaly.*"], channels: ["SYM*"] },
    { subjects: ["troupe.dlq.>", "troupe.sys.actor.stopped"] },
  ]);
  assert.equal(findingSubscriptions({ findings: true, kinds: ["anomaly"], channel: undefined }), [
    { subjects: ["troupe.finding.anomaly.*"] },
  ]);
});

test.run();
