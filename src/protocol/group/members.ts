/**
 * Member handling shared by the `selector` and `urltest` groups: resolving member tags through
 * the outbound lookup, the config check that runs once every outbound exists (missing members,
 * group loops), and the tag whose URL-test history stands for a group (spec sing-box.md §1.2).
 *
 * @module
 */
import { isOutboundGroup, type Outbound } from "../../adapter/types.ts";
import { ConfigError } from "../../common/errors.ts";

/** What {@linkcode checkGroups} needs of each configured outbound. */
export interface GroupConfigEntry {
  tag: string;
  /** JSON path of the outbound object, such as `outbounds[2]`. */
  path: string;
}

/**
 * Checks every group's members once all outbounds are built: each member tag must exist and no
 * group may reach itself through its members.
 *
 * @param entries the configured outbounds with their JSON paths
 * @param lookup the built outbounds by tag
 * @throws {ConfigError} At `outbounds[i].outbounds[j]` for a missing member or a loop
 */
export function checkGroups(
  entries: readonly GroupConfigEntry[],
  lookup: (tag: string) => Outbound | undefined,
): void {
  const pathOf = new Map(entries.map((e) => [e.tag, e.path]));
  for (const e of entries) {
    const group = lookup(e.tag);
    if (!group || !isOutboundGroup(group)) continue;
    group.all().forEach((tag, j) => {
      if (!lookup(tag)) throw new ConfigError(`${e.path}.outbounds[${j}]`, `outbound "${tag}" not found`);
    });
  }
  // Depth-first walk over group → member edges; a member on the current path is a loop.
  const done = new Set<string>();
  const visit = (tag: string, stack: string[]): void => {
    const group = lookup(tag);
    if (!group || !isOutboundGroup(group) || done.has(tag)) return;
    stack.push(tag);
    group.all().forEach((member, j) => {
      if (stack.includes(member)) {
        throw new ConfigError(
          `${pathOf.get(tag) ?? `outbound "${tag}"`}.outbounds[${j}]`,
          `group loop: ${[...stack.slice(stack.indexOf(member)), member].join(" -> ")}`,
        );
      }
      visit(member, stack);
    });
    stack.pop();
    done.add(tag);
  };
  for (const e of entries) visit(e.tag, []);
}

/**
 * Looks up member tags in config order.
 *
 * @param owner `type[tag]` of the group, for the error message
 * @throws {Error} If a tag names no outbound (`checkGroups` reports this with a JSON path first)
 */
export function resolveMembers(
  tags: readonly string[],
  lookup: (tag: string) => Outbound | undefined,
  owner: string,
): Outbound[] {
  return tags.map((tag, i) => {
    const o = lookup(tag);
    if (!o) throw new Error(`${owner}: outbound ${i} not found: "${tag}"`);
    return o;
  });
}

/**
 * The tag whose URL-test history stands for `o`: a group's current member, the outbound's own
 * tag otherwise (sing-box `group.RealTag`, one level deep as there).
 */
export function realTag(o: Outbound): string {
  return isOutboundGroup(o) ? o.now() || o.tag : o.tag;
}
