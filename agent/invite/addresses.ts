/**
 * The addresses an agent hands to another in an invite code or a handshake:
 * its listen addresses without the `/p2p/<id>` suffix (the peer ID travels
 * separately), loopback ones left out when it has others (a loopback address
 * leads the other machine to itself), at most MAX_INVITE_ADDRS. Pure.
 */
import { MAX_INVITE_ADDRS } from '../../protocol/invite-constants.js'

const LOOPBACK = /^\/(ip4\/127\.|ip6\/::1\/|dns[46]?\/localhost\/)/

export function reachableAddrs (listen: readonly string[]): string[] {
  const bare = [...new Set(listen.map((a) => a.replace(/\/p2p\/[^/]+$/, '')))]
  const outside = bare.filter((a) => !LOOPBACK.test(a))
  return (outside.length > 0 ? outside : bare).slice(0, MAX_INVITE_ADDRS)
}
