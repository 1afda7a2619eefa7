/** The router's rule search: indexed plain domain rules interleaved with other rules. */
import fc from "fast-check";
import { assertEquals } from "../_util/assert.ts";
import { routeRuleSchema } from "../../src/config/route.ts";
import { compileRule } from "../../src/route/rule/compile.ts";
import { FirstMatch } from "../../src/route/rule/first_match.ts";
import { matchContext } from "../../src/route/rule/item.ts";
import { meta } from "./_meta.ts";

Deno.test("FirstMatch.find agrees with testing every rule in order, from any position", () => {
  const label = fc.constantFrom("a", "b", "com", "net");
  const name = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join("."));
  const suffix = fc.oneof(name, name.map((n) => "." + n));
  const port = fc.constantFrom(80, 443);
  // Indexed kinds (plain domain/domain_suffix) and kinds that must be tested one by one.
  const rule = fc.oneof(
    fc.record({ domain_suffix: fc.array(suffix, { minLength: 1, maxLength: 2 }) }),
    fc.record({ domain: fc.array(name, { minLength: 1, maxLength: 2 }) }),
    fc.record({ port: fc.array(port, { minLength: 1, maxLength: 1 }) }),
    fc.record({ domain_suffix: fc.array(suffix, { minLength: 1 }), invert: fc.constant(true) }),
    fc.record({ domain: fc.array(name, { minLength: 1 }), port: fc.array(port, { minLength: 1 }) }),
    fc.record({ domain_keyword: fc.array(label, { minLength: 1, maxLength: 1 }) }),
  );
  fc.assert(
    fc.property(
      fc.array(rule, { minLength: 1, maxLength: 25 }),
      fc.oneof(name, fc.constant("10.0.0.1")),
      port,
      fc.nat(25),
      (rules, host, destPort, from) => {
        const matchers = rules.map((r, i) =>
          compileRule(routeRuleSchema.parse({ ...r, outbound: "x" }), `route.rules[${i}]`, {
            hasOutbound: () => true,
          }).matcher
        );
        const ctx = matchContext(meta({ dest: `${host}:${destPort}` }));
        let want = -1;
        for (let i = from; i < matchers.length; i++) {
          if (matchers[i]!.match(ctx)) {
            want = i;
            break;
          }
        }
        assertEquals(new FirstMatch(matchers).find(ctx, from), want);
      },
    ),
    { numRuns: 2000 },
  );
});
