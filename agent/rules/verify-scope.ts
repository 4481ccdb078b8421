/**
 * Which digest groups (type × origin, protocol/digest.ts) a verify compares,
 * as pure functions of the rules: the server offers the groups whose type
 * its serve rules let the peer see; the client keeps the groups it would
 * import from that peer — wholly, since a group it imports only in part
 * could never match. By the import rules (inbound.ts, same decisions):
 *
 * - `types.only` / `types.skip`: a type not imported is left out (objects
 *   of it imported only as another's dependency go unverified);
 * - `types.updateOnly`: only the group whose origin is this agent (objects
 *   whose id carries our localPrefix but that originated elsewhere are left out);
 * - `import.users/settings`: those types or nothing; `import.registry`: the
 *   bika/senaite records (`@registry`), never the others (`@registry:other`);
 * - `prefix` / `localPrefix`: nothing to decide, the digest leaves ids out.
 */
import { OTHER_REGISTRY_TYPE, ruleTypeOf, type DigestGroup } from '../../protocol/digest.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { decideInbound } from './inbound.js'
import { serveExclusion } from './serve.js'
import type { InboundRules, ServeRules } from './types.js'

/** We would import every object of this group from the peer these rules are for. */
export function importsGroup (rules: InboundRules, group: DigestGroup): boolean {
  if (group.type === OTHER_REGISTRY_TYPE) return false
  // a stand-in object of the group: the rules decide by its type and origin (and a registry record's name)
  const probe: ObjectVersion = {
    uid: '', type: group.type, id: group.type === '@registry' ? 'senaite' : '', parent: null, refs: [], data: {}, vector: {}, origin: group.origin, deleted: false, at: 0
  }
  return decideInbound(rules, probe).action === 'apply'
}

/** The peer these serve rules are for may see objects of this digest type. */
export function servesDigestType (rules: ServeRules, digestType: string): boolean {
  return serveExclusion(rules, { type: ruleTypeOf(digestType) }) === undefined
}
