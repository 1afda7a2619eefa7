import { assertEquals, assertStringIncludes } from "../../_util/assert.ts";
import { runCli } from "../../../src/cli/mod.ts";

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  console.error = () => {};
  try {
    const code = await fn();
    return { code, out: lines.join("\n") };
  } finally {
    console.log = log;
    console.error = err;
  }
}

Deno.test("rule-set compile, decompile, format, match and convert --type adguard", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = `${dir}/set.json`;
    await Deno.writeTextFile(
      src,
      JSON.stringify({ version: 2, rules: [{ domain_suffix: "example.org" }, { ip_cidr: ["10.0.0.0/8"] }] }),
    );
    assertEquals((await capture(() => runCli(["rule-set", "compile", src]))).code, 0);
    const srs = await Deno.readFile(`${dir}/set.srs`);
    assertEquals(Array.from(srs.subarray(0, 4)), [0x53, 0x52, 0x53, 2]);
    assertEquals(
      (await capture(() => runCli(["rule-set", "decompile", `${dir}/set.srs`, "-o", `${dir}/back.json`])))
        .code,
      0,
    );
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/back.json`)), {
      version: 2,
      rules: [{ domain_suffix: ["example.org"] }, { ip_cidr: ["10.0.0.0/8"] }],
    });
    const fmt = await capture(() => runCli(["rule-set", "format", src]));
    assertStringIncludes(fmt.out, '"domain_suffix": [\n        "example.org"');
    const m1 = await capture(() => runCli(["rule-set", "match", `${dir}/set.srs`, "www.example.org"]));
    assertEquals(m1.out, "match rules.[0]: domain_suffix=example.org");
    const m2 = await capture(() => runCli(["rule-set", "match", src, "10.1.2.3"]));
    assertEquals(m2.out, "match rules.[1]: ip_cidr=10.0.0.0/8");
    assertEquals((await capture(() => runCli(["rule-set", "match", src, "other.test"]))).out, "");
    await Deno.writeTextFile(`${dir}/filter.txt`, "||ads.example^\n@@||ok.ads.example^\n");
    assertEquals(
      (await capture(() => runCli(["rule-set", "convert", "--type", "adguard", `${dir}/filter.txt`]))).code,
      0,
    );
    assertEquals(
      (await capture(() => runCli(["rule-set", "match", `${dir}/filter.srs`, "x.ads.example"]))).out
        .startsWith("match rules.[0]"),
      true,
    );
    assertEquals(
      (await capture(() => runCli(["rule-set", "match", `${dir}/filter.srs`, "ok.ads.example"]))).out,
      "",
    );
    assertEquals(
      (await capture(() => runCli(["rule-set", "convert", "--type", "clash", `${dir}/filter.txt`]))).code,
      1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
