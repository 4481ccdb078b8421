/**
 * What we import from a remote, decided per object (DESIGN.md "Rules").
 *
 * Order of the checks: the special object classes (users, registry,
 * settings) need their import flag; then type filters (`only`, `skip`) —
 * waived when the object is required by another imported object; then
 * update-only (never create what did not originate here). The id is then
 * presented the local way: our own objects lose our localPrefix, objects of
 * prefixable types get the remote's prefix. The uid and the vector are never
 * touched.
 */
import { createHash } from 'node:crypto'
import { isLimsRegistryKey } from '../../protocol/digest.js'
import type { ObjectVersion } from '../../protocol/object.js'
import { SPECIAL_TYPES, type AgentRuleSource, type InboundDecision, type InboundRules, type PeerRuleSource } from './types.js'

export function compileInboundRules (agent: AgentRuleSource, peer: Omit<PeerRuleSource, 'serve'>): InboundRules {
  return Object.freeze({
    peerName: peer.name,
    localDomain: agent.domain,
    localPrefix: agent.localPrefix,
    separator: agent.prefixSeparator,
    prefix: peer.prefix,
    only: new Set(peer.types.only),
    skip: new Set(peer.types.skip),
    prefixable: new Set(peer.types.prefixable),
    readOnly: new Set(peer.types.readOnly),
    updateOnly: new Set(peer.types.updateOnly),
    importUsers: peer.import.users,
    importRegistry: peer.import.registry,
    importSettings: peer.import.settings
  })
}

/**
 * A stable hash of everything that decides what is imported. A checkpoint
 * made under other rules is not trusted: objects ignored then would never be
 * looked at again (CouchDB puts its filter in the replication ID likewise).
 */
export function inboundRulesHash (rules: InboundRules): string {
  const canonical = JSON.stringify([
    rules.localDomain, rules.localPrefix, rules.separator, rules.prefix,
    [...rules.only].sort(), [...rules.skip].sort(), [...rules.prefixable].sort(),
    [...rules.readOnly].sort(), [...rules.updateOnly].sort(),
    rules.importUsers, rules.importRegistry, rules.importSettings
  ])
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}

export interface InboundContext {
  /** another object being imported needs this one (parent or ref) */
  readonly required: boolean
}

/** Decide whether `incoming` is imported; pure. */
export function decideInbound (rules: InboundRules, incoming: ObjectVersion, context: InboundContext = { required: false }): InboundDecision {
  const special = decideSpecial(rules, incoming)
  if (special !== undefined) return special
  const type = incoming.type
  if (!context.required) {
    if (rules.only.size > 0 && !rules.only.has(type) && !rules.prefixable.has(type) && !rules.updateOnly.has(type) && !rules.readOnly.has(type)) {
      return { action: 'ignore', reason: 'not-in-only', rule: `types.only of peer ${rules.peerName} does not list ${type}` }
    }
    if (rules.skip.has(type)) {
      return { action: 'ignore', reason: 'skipped-type', rule: `types.skip of peer ${rules.peerName} lists ${type}` }
    }
  }
  if (rules.updateOnly.has(type) && !isOurs(rules, incoming)) {
    return { action: 'ignore', reason: 'update-only-foreign', rule: `types.updateOnly of peer ${rules.peerName} lists ${type} and ${incoming.id} did not originate here` }
  }
  return { action: 'apply', idRewritten: localId(rules, incoming) !== incoming.id }
}

/** The id this object gets here. */
export function localId (rules: InboundRules, incoming: ObjectVersion): string {
  const own = ownPrefix(rules)
  if (own !== undefined && incoming.id.startsWith(own)) return incoming.id.slice(own.length)
  if (incoming.origin === rules.localDomain) return incoming.id
  if (rules.prefix !== '' && rules.prefixable.has(incoming.type)) {
    const theirs = rules.prefix + rules.separator
    return incoming.id.startsWith(theirs) ? incoming.id : theirs + incoming.id
  }
  return incoming.id
}

/**
 * The version as it is stored here: same uid, vector and data; local id.
 * The id its signer wrote stays in `sig.id` (dropped again once the
 * presented id is that one), so the signature verifies at every agent
 * downstream, whatever prefixes the relays in between applied.
 */
export function presentLocally (rules: InboundRules, incoming: ObjectVersion): ObjectVersion {
  const id = localId(rules, incoming)
  if (id === incoming.id) return incoming
  const sig = incoming.sig
  if (sig === undefined) return { ...incoming, id }
  const signedId = sig.id ?? incoming.id
  if (signedId !== id) return { ...incoming, id, sig: { ...sig, id: signedId } }
  const { id: _signed, ...rest } = sig // eslint-disable-line @typescript-eslint/no-unused-vars
  return { ...incoming, id, sig: rest }
}

/** The object originated here: its origin is us, or its id carries our prefix. */
export function isOurs (rules: InboundRules, incoming: ObjectVersion): boolean {
  if (incoming.origin === rules.localDomain) return true
  const own = ownPrefix(rules)
  return own !== undefined && incoming.id.startsWith(own)
}

function ownPrefix (rules: InboundRules): string | undefined {
  return rules.localPrefix !== '' ? rules.localPrefix + rules.separator : undefined
}

function decideSpecial (rules: InboundRules, incoming: ObjectVersion): InboundDecision | undefined {
  switch (incoming.type) {
    case SPECIAL_TYPES.user:
      return rules.importUsers ? { action: 'apply', idRewritten: false } : { action: 'ignore', reason: 'users-not-imported', rule: `import.users is off for peer ${rules.peerName}` }
    case SPECIAL_TYPES.registry:
      if (!rules.importRegistry) return { action: 'ignore', reason: 'registry-not-imported', rule: `import.registry is off for peer ${rules.peerName}` }
      return isLimsRegistryKey(incoming.id)
        ? { action: 'apply', idRewritten: false }
        : { action: 'ignore', reason: 'registry-not-imported', rule: `registry record ${incoming.id} is not a bika/senaite record` }
    case SPECIAL_TYPES.settings:
      return rules.importSettings ? { action: 'apply', idRewritten: false } : { action: 'ignore', reason: 'settings-not-imported', rule: `import.settings is off for peer ${rules.peerName}` }
    default:
      return undefined
  }
}

// the digest (protocol/digest.ts) groups registry records by the same test, so it lives there
export { isLimsRegistryKey }
