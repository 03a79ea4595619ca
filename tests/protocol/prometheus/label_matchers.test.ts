import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ProtocolError } from "../../../protocol/mod.ts";
import {
  formatLabelSelector,
  type Label,
  parseLabelSelector,
} from "../../../protocol/prometheus/mod.ts";

const test = suite("label matchers");

const L = (o: Record<string, string>): Label[] =>
  Object.entries(o).map(([name, value]) => ({ name, value }));

test("parseLabelSelector() reads =, !=, =~ and !~ with a metric name in front", () => {
  const s = parseLabelSelector('http_requests_total{job="api", code!~"2..", path=~`/v1/.*`}');
  assert.equal(s.matchers, [
    { name: "__name__", op: "=", value: "http_requests_total" },
    { name: "job", op: "=", value: "api" },
    { name: "code", op: "!~", value: "2.." },
    { name: "path", op: "=~", value: "/v1/.*" },
  ]);
  const base = { __name__: "http_requests_total", job: "api", path: "/v1/users" };
  assert.ok(s.matches(L({ ...base, code: "500" })));
  assert.not.ok(s.matches(L({ ...base, code: "200" })));
  assert.not.ok(s.matches(L({ ...base, code: "500", job: "web" })));
});

test("regular expressions are anchored at both ends, as Prometheus anchors them", () => {
  const s = parseLabelSelector('{__name__=~"http_.*"}');
  assert.ok(s.matches(L({ __name__: "http_requests_total" })));
  assert.not.ok(s.matches(L({ __name__: "x_http_requests" })));
  assert.not.ok(parseLabelSelector('{job=~"api"}').matches(L({ job: "api2" })));
});

test("a label the series lacks matches as the empty string", () => {
  assert.ok(parseLabelSelector('{env=""}').matches(L({ job: "a" })));
  assert.not.ok(parseLabelSelector('{env!=""}').matches(L({ job: "a" })));
  assert.ok(parseLabelSelector('{env!~"prod"}').matches(L({ job: "a" })));
});

test("formatLabelSelector() writes what parseLabelSelector() reads back", () => {
  const s = parseLabelSelector('up{job="a\\"b", instance=~"h.*:9100"}');
  assert.equal(parseLabelSelector(formatLabelSelector(s.matchers)).matchers, s.matchers);
});

test("parseLabelSelector() refuses bad selectors, naming the character and what was expected", () => {
  const cases: Array<[string, RegExp]> = [
    ['{job="a"', /"," or "}" was expected/],
    ['{job=="a"}', /a quoted string was expected/],
    ['{job<"a"}', /one of = != =~ !~ was expected/],
    ["{}", /at least one matcher/],
    ['{job=~"(?=x)"}', /lookaround or a backreference/],
    ['{job=~"(("}', /does not compile/],
    ['{job="a"} extra', /nothing may follow/],
  ];
  for (const [text, why] of cases) {
    try {
      parseLabelSelector(text);
      assert.unreachable(text);
    } catch (e) {
      assert.instance(e, ProtocolError, text);
      assert.match((e as Error).message, why, text);
      assert.match((e as Error).message, JSON.stringify(text).slice(1, -1).slice(0, 3));
    }
  }
});

test.run();
