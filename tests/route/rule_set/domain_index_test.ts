import fc from "fast-check";
import { assertEquals } from "../../_util/assert.ts";
import { DomainIndex } from "../../../src/route/rule_set/domain_index.ts";

/** The sing-box semantics spelled out naively: exact names; `s` = s or *.s; `.s` = *.s only. */
function naiveMatch(domain: string, r: { domains: string[]; suffixes: string[] }): boolean {
  return r.domains.includes(domain) ||
    r.suffixes.some((s) => s.startsWith(".") ? domain.endsWith(s) : domain === s || domain.endsWith(`.${s}`));
}

Deno.test("DomainIndex.firstMatch agrees with a naive linear scan of domain rules", () => {
  const label = fc.constantFrom("a", "b", "c", "com", "net");
  const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join("."));
  const rule = fc.record({
    domains: fc.array(name, { maxLength: 2 }),
    suffixes: fc.array(fc.oneof(name, name.map((n) => "." + n)), { maxLength: 2 }),
  });
  fc.assert(
    fc.property(fc.array(rule, { minLength: 1, maxLength: 30 }), name, fc.nat(30), (rules, query, from) => {
      const index = new DomainIndex();
      rules.forEach((r, i) => index.add(i, r.domains, r.suffixes));
      let want: number | undefined;
      for (let i = from; i < rules.length; i++) {
        if (naiveMatch(query, rules[i]!)) {
          want = i;
          break;
        }
      }
      assertEquals(index.firstMatch(query, from), want);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("DomainIndex answers over 10,000 suffix rules (rate printed, not asserted)", () => {
  const index = new DomainIndex();
  for (let i = 0; i < 10_000; i++) index.add(i, [], [`site${i}.example${i % 97}.com`]);
  const probes = Array.from(
    { length: 1024 },
    (_, i) => i % 2 ? `www.site${i}.example${i % 97}.com` : `miss${i}.net`,
  );
  let hits = 0;
  const n = 500_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (index.firstMatch(probes[i & 1023]) !== undefined) hits++;
  const rate = n / ((performance.now() - t0) / 1000);
  assertEquals(hits, n / 2);
  console.log(`DomainIndex: ${(rate / 1e6).toFixed(2)} M lookups/s`);
});
