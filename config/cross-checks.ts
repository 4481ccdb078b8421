/**
 * Checks that span several fields (duplicates, contradicting rules). They run
 * on the raw document, defensively, so that they are reported together with
 * the schema's own problems instead of only after those are fixed.
 */
import type { ConfigIssue } from './errors.js'

type Raw = Record<string, unknown>

const asObject = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Raw : {})
const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const asString = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback)

const RULES_FIX = 'list each portal type in at most one of only/skip and one of readOnly/updateOnly; set prefix and types.prefixable together'

export function crossFieldIssues (raw: unknown): ConfigIssue[] {
  const config = asObject(raw)
  const issues: ConfigIssue[] = []
  const domain = asString(config.domain, '')
  const localPrefix = asString(config.localPrefix, '')
  const peers = Array.isArray(config.peers) ? config.peers : []
  const names = new Map<string, number>()
  const ids = new Map<string, number>()
  peers.forEach((value, i) => {
    const peer = asObject(value)
    const at = (field: string): string => `peers[${i}].${field}`
    const name = asString(peer.name, '')
    const peerId = asString(peer.peerId, '')
    if (name !== '') {
      const same = names.get(name)
      if (same !== undefined) issues.push({ path: at('name'), message: `duplicates the name of peers[${same}]`, fix: 'give each peer a unique name' })
      else names.set(name, i)
      if (name === domain) issues.push({ path: at('name'), message: 'is this agent\'s own domain', fix: 'a peer is another agent: use that agent\'s domain' })
    }
    if (peerId !== '') {
      const same = ids.get(peerId)
      if (same !== undefined) issues.push({ path: at('peerId'), message: `duplicates the peerId of peers[${same}]`, fix: 'list each agent once; merge the two entries' })
      else ids.set(peerId, i)
    }
    if (peer.pull === true && asStrings(peer.addrs).length === 0) {
      issues.push({ path: at('addrs'), message: 'is empty, but pull is true: this agent cannot dial the peer', fix: 'list the peer\'s listen multiaddrs, e.g. /ip4/10.0.0.5/tcp/4100' })
    }
    const types = asObject(peer.types)
    const only = asStrings(types.only)
    const skip = asStrings(types.skip)
    const readOnly = asStrings(types.readOnly)
    const updateOnly = asStrings(types.updateOnly)
    const prefixable = asStrings(types.prefixable)
    const prefix = asString(peer.prefix, '')
    for (const t of only.filter((x) => skip.includes(x))) issues.push({ path: at('types.skip'), message: `lists "${t}", which types.only also lists`, fix: RULES_FIX })
    for (const t of readOnly.filter((x) => updateOnly.includes(x))) issues.push({ path: at('types.updateOnly'), message: `lists "${t}", which types.readOnly also lists`, fix: RULES_FIX })
    if (prefix !== '' && prefixable.length === 0) issues.push({ path: at('types.prefixable'), message: `is empty, but prefix "${prefix}" is set`, fix: 'list the types that get the prefix (e.g. AnalysisRequest, Analysis), or clear prefix' })
    if (prefix === '' && prefixable.length > 0) issues.push({ path: at('prefix'), message: 'is empty, but types.prefixable lists types to prefix', fix: 'set this peer\'s prefix (e.g. "A"), or clear types.prefixable' })
    if (prefix !== '' && prefix === localPrefix) issues.push({ path: at('prefix'), message: `equals localPrefix "${localPrefix}": objects from this peer would look like our own`, fix: 'give the peer a prefix different from this agent\'s localPrefix' })
  })
  return issues
}
