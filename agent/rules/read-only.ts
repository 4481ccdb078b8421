/**
 * Read-only types: objects of a type listed in some remote's types.readOnly,
 * that did not originate here, may not be edited locally (SENAITE.SYNC's
 * "Read-Only Content Types"; syncthing's receive-only folders).
 */
import type { ObjectVersion } from '../../protocol/object.js'
import type { InboundRules } from './types.js'

export interface ReadOnlyVerdict {
  readonly peer: string
  readonly type: string
}

/**
 * The remote whose readOnly rule protects `object` from local edits, or
 * undefined when it may be edited here.
 */
export function readOnlyRuleFor (rulesByPeer: readonly InboundRules[], object: Pick<ObjectVersion, 'type' | 'origin'>): ReadOnlyVerdict | undefined {
  for (const rules of rulesByPeer) {
    if (rules.readOnly.has(object.type) && object.origin !== rules.localDomain) return { peer: rules.peerName, type: object.type }
  }
  return undefined
}
