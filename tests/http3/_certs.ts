/**
 * Test certificates made with the openssl CLI: a CA and a leaf for localhost/127.0.0.1/::1 with
 * `basicConstraints=CA:FALSE` (rustls refuses a CA certificate as an end entity). Made once per
 * process in a temporary directory.
 */
export interface TestCerts {
  dir: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

let cached: Promise<TestCerts> | undefined;

async function run(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Returns the shared test certificates, creating them on first use. */
export function testCerts(): Promise<TestCerts> {
  return cached ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "sy-h3-certs-" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await run([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "30",
      "-subj",
      "/CN=Switchyard Test CA",
    ], dir);
    await run(["req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"], dir);
    await Deno.writeTextFile(
      `${dir}/ext.cnf`,
      "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n" +
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    await run([
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "leaf.crt",
      "-days",
      "30",
      "-extfile",
      "ext.cnf",
    ], dir);
    return {
      dir,
      caPem: await Deno.readTextFile(`${dir}/ca.crt`),
      certPem: await Deno.readTextFile(`${dir}/leaf.crt`),
      keyPem: await Deno.readTextFile(`${dir}/leaf.key`),
      caFile: `${dir}/ca.crt`,
      certFile: `${dir}/leaf.crt`,
      keyFile: `${dir}/leaf.key`,
    };
  })();
}
