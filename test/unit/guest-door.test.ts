/**
 * The mesh's guest door on its own, with a stand-in for the libp2p node's
 * connection events: a guest connection is closed when its time is up unless
 * its peer joined meanwhile; at most `maxGuests` are let in at once; outbound
 * only the peer being joined may be dialled, and only while joining.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { describe, expect, it } from 'vitest'
import { GuestDoor } from '../../agent/net/guests.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import { waitFor } from '../helpers/nodes.js'

const id = (text: string): PeerId => ({ toString: () => text }) as unknown as PeerId

function connection (peer: string, n: number): { id: string, remotePeer: PeerId, status: string, closed: boolean, close: () => Promise<void>, abort: () => void } {
  const c = { id: `c${n}`, remotePeer: id(peer), status: 'open', closed: false, close: async () => { c.closed = true; c.status = 'closed' }, abort: () => { c.closed = true } }
  return c
}

describe('guest door', () => {
  it('closes a guest\'s connection when its time is up, unless the peer joined; caps guests; dials only the peer being joined', async () => {
    const configured = new Set<string>()
    const door = new GuestDoor({ protocol: '/test/1', admit: () => true, maxGuests: 2, ttlMs: 50 }, (p) => configured.has(p), silentLogger())
    const node = new EventTarget()
    const unwatch = door.watch(node as unknown as Libp2p)
    const open = (peer: string, n: number): ReturnType<typeof connection> => {
      const c = connection(peer, n)
      node.dispatchEvent(new CustomEvent('connection:open', { detail: c }))
      return c
    }
    configured.add('member')
    // opened in this order, so when the stranger's time is up the others' would have been too
    const member = open('member', 0)
    const joiner = open('joiner', 1)
    const stranger = open('stranger', 2)
    expect(door.admitsInbound(id('third'))).toBe(false) // two guests are in already
    configured.add('joiner')
    await waitFor(() => stranger.closed, { what: 'the stranger\'s connection closed at its time' })
    expect(joiner.closed).toBe(false)
    expect(member.closed).toBe(false)
    node.dispatchEvent(new CustomEvent('connection:close', { detail: stranger }))
    node.dispatchEvent(new CustomEvent('connection:close', { detail: joiner }))
    expect(door.admitsInbound(id('third'))).toBe(true)

    expect(door.allowsOutbound(id('inviter'))).toBe(false)
    const during = await door.joining('inviter', async () => door.allowsOutbound(id('inviter')))
    expect(during).toBe(true)
    expect(door.allowsOutbound(id('inviter'))).toBe(false)
    unwatch()
  })
})
