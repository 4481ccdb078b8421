/**
 * What a peer may receive from us (its `serve` rules; default everything).
 * Enforced on every path out — pull and get — so an excluded object never
 * reaches that peer.
 */
import { createHash } from 'node:crypto'
import type { ObjectVersion } from '../../protocol/object.js'
import { SPECIAL_TYPES, type PeerRuleSource, type ServeExclusion, type ServeRules } from './types.js'

export function compileServeRules (peer: Pick<PeerRuleSource, 'serve'>): ServeRules {
  return Object.freeze({
    only: new Set(peer.serve.types.only),
    skip: new Set(peer.serve.types.skip),
    users: peer.serve.users,
    registry: peer.serve.registry,
    settings: peer.serve.settings
  })
}

/** A stable hash of serve rules, sent in hello so a client can tell they changed. */
export function serveRulesHash (rules: ServeRules): string {
  const canonical = JSON.stringify([[...rules.only].sort(), [...rules.skip].sort(), rules.users, rules.registry, rules.settings])
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}

/** Why `object` must not be served to the peer, or undefined when it may be (by type alone). */
export function serveExclusion (rules: ServeRules, object: Pick<ObjectVersion, 'type'>): ServeExclusion | undefined {
  switch (object.type) {
    case SPECIAL_TYPES.user: return rules.users ? undefined : 'users-not-served'
    case SPECIAL_TYPES.registry: return rules.registry ? undefined : 'registry-not-served'
    case SPECIAL_TYPES.settings: return rules.settings ? undefined : 'settings-not-served'
  }
  if (rules.only.size > 0 && !rules.only.has(object.type)) return 'not-in-only'
  if (rules.skip.has(object.type)) return 'skipped-type'
  return undefined
}
