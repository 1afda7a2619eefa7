/**
 * `switchyard generate …`: key and secret helpers with sing-box's command names
 * (`uuid`, `rand <length> [--hex|--base64]`, `tls-keypair <server_name> [-m months]`,
 * `wg-keypair`, `reality-keypair`).
 *
 * @module
 */
import { type Command, InvalidArgumentError } from "commander";
import { x25519 } from "@noble/curves/ed25519.js";

function b64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function b64url(bytes: Uint8Array): string {
  return b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function pem(label: string, der: ArrayBuffer): string {
  const body = b64(new Uint8Array(der)).replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return n;
}

/**
 * Generates a self-signed ECDSA P-256 certificate for `serverName`.
 * @returns PEM private key (PKCS#8) and certificate
 */
export async function generateTlsKeyPair(
  serverName: string,
  months: number,
): Promise<{ key: string; cert: string }> {
  const { x509 } = await import("./_x509.ts");
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const notBefore = new Date();
  const notAfter = new Date(notBefore);
  notAfter.setMonth(notAfter.getMonth() + months);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Array.from(
      crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("").replace(/^[89a-f]/, "1"),
    name: `CN=${serverName}`,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: serverName }]),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const key = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { key, cert: cert.toString("pem") + "\n" };
}

/** Registers `generate` and its subcommands. */
export function registerGenerate(program: Command): void {
  const gen = program.command("generate").description("Generate things");
  gen.command("uuid").description("Generate UUID string").action(() => console.log(crypto.randomUUID()));
  gen.command("rand")
    .description("Generate random bytes")
    .argument("<length>", "number of bytes", positiveInt)
    .option("--base64", "generate base64 string")
    .option("--hex", "generate hex string")
    .action((length: number, opts: { base64?: boolean; hex?: boolean }) => {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      if (opts.base64) console.log(b64(bytes));
      else if (opts.hex) console.log(Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""));
      else Deno.stdout.writeSync(bytes);
    });
  gen.command("tls-keypair")
    .description("Generate TLS self sign key pair")
    .argument("<server_name>", "certificate subject and DNS name")
    .option("-m, --months <months>", "valid months", positiveInt, 12)
    .action(async (serverName: string, opts: { months: number }) => {
      const { key, cert } = await generateTlsKeyPair(serverName, opts.months);
      Deno.stdout.writeSync(new TextEncoder().encode(key + cert));
    });
  gen.command("wg-keypair").description("Generate WireGuard key pair").action(() => {
    const priv = x25519.utils.randomSecretKey();
    console.log(`PrivateKey: ${b64(priv)}\nPublicKey: ${b64(x25519.getPublicKey(priv))}`);
  });
  gen.command("reality-keypair").description("Generate reality key pair").action(() => {
    const priv = x25519.utils.randomSecretKey();
    console.log(`PrivateKey: ${b64url(priv)}\nPublicKey: ${b64url(x25519.getPublicKey(priv))}`);
  });
  for (const c of gen.commands) c.exitOverride().showHelpAfterError();
}
