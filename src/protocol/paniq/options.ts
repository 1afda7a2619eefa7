/**
 * The router's `{"type": "paniq"}` options (inbound and outbound): the profile inline, from a
 * file, or as a base64 CBOR connection string (paniq.md §4.6).
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "../../common/errors.ts";
import { parseProfile, type Profile } from "./profile.ts";
import { decodeConnectionString } from "./profile_cbor.ts";

/** Profile source fields shared by the inbound and the outbound. */
export const profileFields = {
  /** The profile JSON object itself. */
  profile: z.record(z.string(), z.unknown()).optional(),
  /** Path of a profile JSON file. */
  profile_file: z.string().optional(),
  /** A `bf profile-cbor -base64` connection string. */
  connection_string: z.string().optional(),
};

/**
 * Loads the profile from exactly one of the three sources.
 *
 * @throws {ConfigError} If none or several are given, or the profile is invalid
 */
export function loadProfile(
  o: { profile?: Record<string, unknown>; profile_file?: string; connection_string?: string },
): Profile {
  const given = [o.profile, o.profile_file, o.connection_string].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw new ConfigError("profile", "set exactly one of profile, profile_file, connection_string");
  }
  if (o.profile) return parseProfile(o.profile);
  if (o.connection_string) return decodeConnectionString(o.connection_string);
  let text: string;
  try {
    text = Deno.readTextFileSync(o.profile_file!);
  } catch (e) {
    throw new ConfigError("profile_file", `cannot read "${o.profile_file}": ${(e as Error).message}`);
  }
  try {
    return parseProfile(JSON.parse(text));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError("profile_file", `invalid JSON: ${(e as Error).message}`);
  }
}
