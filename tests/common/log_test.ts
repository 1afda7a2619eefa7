import { assertEquals } from "../_util/assert.ts";
import { getLogger, setupLogging } from "../../src/common/log.ts";
import { reset } from "@logtape/logtape";

Deno.test("getLogger() prints messages with braces verbatim in sing-box format", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchyard-log-" });
  try {
    await setupLogging({ level: "debug", output: `${dir}/out.log` });
    getLogger("router").info('match {"port":80} => route(direct)');
    getLogger("inbound", "mixed[in]").debug("from [fe80::1%eth0]:5 {x}");
    getLogger().trace("below the level");
    await reset();
    assertEquals(
      await Deno.readTextFile(`${dir}/out.log`),
      'INFO router: match {"port":80} => route(direct)\nDEBUG inbound/mixed[in]: from [fe80::1%eth0]:5 {x}\n',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
