/**
 * The invite code and its proof, as pure functions: codes round-trip; every
 * single-character change and every truncation is told apart (DAMAGED) from
 * text that is no code (MALFORMED); what a mail client does to a line
 * (wrapping, case) is tolerated; the proof binds the secret to both peer
 * IDs, the invitation and the nonce.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InviteError } from '../../protocol/errors.js'
import { decodeInviteCode, encodeInviteCode, INVITE_CODE_PREFIX, INVITE_FORMAT_VERSION, openInviteCode, sealInvitePayload, type InviteCode } from '../../protocol/invite-code.js'
import { inviteProof, proofMatches } from '../../protocol/invite-proof.js'
import { decodeInviterMessage, decodeJoinerMessage } from '../../protocol/invite-messages.js'
import { reachableAddrs } from '../../agent/invite/addresses.js'
import { guestAdmission } from '../../agent/invite/admission.js'

const PEER_A = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const PEER_B = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'

const sample = (over: Partial<InviteCode> = {}): InviteCode => ({
  id: '0011223344556677',
  secret: '00112233445566778899aabbccddeeff',
  expiresAt: 1_900_000_000_000,
  peerId: PEER_A,
  domain: 'lab-a',
  addrs: ['/ip4/192.168.1.20/tcp/4101', '/dns4/lims-a.lab.example/tcp/4101'],
  ...over
})

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (err) {
    return err instanceof InviteError ? err.code : `not an InviteError: ${String(err)}`
  }
}

describe('invite code', () => {
  it('round-trips, is one line of lowercase letters and digits behind its prefix, and stays short', () => {
    const code = encodeInviteCode(sample())
    expect(code).toMatch(/^labmesh_invite_[a-z2-7]+$/)
    expect(code.length).toBeLessThan(220)
    expect(decodeInviteCode(code)).toEqual(sample())
    expect(decodeInviteCode(encodeInviteCode(sample({ addrs: [], domain: 'x' })))).toEqual(sample({ addrs: [], domain: 'x' }))
  })

  it('tolerates what mail and chat do to a line: wrapping, surrounding space, upper case', () => {
    const code = encodeInviteCode(sample())
    const wrapped = `  ${code.slice(0, 70)}\r\n${code.slice(70, 140)}\n ${code.slice(140)}\n`
    expect(decodeInviteCode(wrapped)).toEqual(sample())
    expect(decodeInviteCode(code.toUpperCase())).toEqual(sample())
  })

  it('tells every altered character and every truncation (DAMAGED) from text that is no code (MALFORMED)', () => {
    const code = encodeInviteCode(sample())
    const body = code.slice(INVITE_CODE_PREFIX.length)
    for (let i = 0; i < body.length; i++) {
      for (const replacement of ['a', 'q', '7']) {
        if (body[i] === replacement) continue
        const altered = INVITE_CODE_PREFIX + body.slice(0, i) + replacement + body.slice(i + 1)
        expect(codeOf(() => decodeInviteCode(altered)), `character ${i} → ${replacement}`).toBe('INVITE_DAMAGED')
      }
    }
    for (let keep = 0; keep < body.length; keep++) {
      expect(codeOf(() => decodeInviteCode(INVITE_CODE_PREFIX + body.slice(0, keep))), `cut to ${keep}`).toBe('INVITE_DAMAGED')
    }
    expect(codeOf(() => decodeInviteCode(`${code}x`))).toBe('INVITE_DAMAGED')
    expect(codeOf(() => decodeInviteCode(`${code.slice(0, 50)}-${code.slice(50)}`))).toBe('INVITE_DAMAGED')
    for (const text of ['', PEER_A, 'labmesh invite please', code.slice(3)]) {
      expect(codeOf(() => decodeInviteCode(text)), text).toBe('INVITE_MALFORMED')
    }
  })

  it('says so when a code has a newer format, or bytes no encoder wrote behind a good checksum', () => {
    const bytes = openInviteCode(encodeInviteCode(sample()))!
    const payload = Buffer.from(bytes.subarray(0, bytes.length - 5))
    const v2 = sealInvitePayload(Buffer.concat([Buffer.from([INVITE_FORMAT_VERSION + 1]), payload.subarray(1)]))
    expect(codeOf(() => decodeInviteCode(v2))).toBe('INVITE_MALFORMED')
    expect(() => decodeInviteCode(v2)).toThrow(/format version 2/)
    const trailing = sealInvitePayload(Buffer.concat([payload, Buffer.from([0])]))
    expect(codeOf(() => decodeInviteCode(trailing))).toBe('INVITE_MALFORMED')
    expect(() => decodeInviteCode(trailing)).toThrow(/after its last field/)
  })
})

describe('invite proof', () => {
  const input = { inviteId: '0011223344556677', inviterPeerId: PEER_A, joinerPeerId: PEER_B, nonce: 'aa'.repeat(16) }
  const secret = randomBytes(16).toString('hex')

  it('matches only for the same secret, invitation, peers and nonce', () => {
    const proof = inviteProof(secret, input)
    expect(proof).toMatch(/^[0-9a-f]{64}$/)
    expect(proofMatches(secret, input, proof)).toBe(true)
    expect(proofMatches(randomBytes(16).toString('hex'), input, proof)).toBe(false)
    for (const change of [{ inviteId: '0011223344556678' }, { inviterPeerId: PEER_B }, { joinerPeerId: PEER_A }, { nonce: 'ab'.repeat(16) }]) {
      expect(proofMatches(secret, { ...input, ...change }, proof), JSON.stringify(change)).toBe(false)
    }
    expect(proofMatches(secret, input, proof.slice(0, 62))).toBe(false)
    expect(proofMatches(secret, input, 'zz')).toBe(false)
  })
})

describe('invite protocol messages', () => {
  it('accept what the protocol says and refuse the rest, naming the field', () => {
    expect(decodeInviterMessage({ type: 'challenge', v: 1, nonce: 'ab'.repeat(16) }).ok).toBe(true)
    expect(decodeJoinerMessage({ type: 'proof', v: 1, invite: '00'.repeat(8), mac: 'ff'.repeat(32), domain: 'lab-b', addrs: ['/ip4/1.2.3.4/tcp/1'] }).ok).toBe(true)
    expect(decodeJoinerMessage({ type: 'proof', v: 1, invite: '00'.repeat(8), mac: 'ff'.repeat(31), domain: 'lab-b', addrs: [] })).toMatchObject({ ok: false, error: expect.stringContaining('mac') })
    expect(decodeJoinerMessage({ type: 'proof', v: 1, invite: '00'.repeat(8), mac: 'ff'.repeat(32), domain: 'lab-b', addrs: new Array(17).fill('/ip4/1.2.3.4/tcp/1') })).toMatchObject({ ok: false, error: expect.stringContaining('addrs') })
    expect(decodeInviterMessage({ type: 'challenge', v: 2, nonce: 'ab'.repeat(16) })).toMatchObject({ ok: false, error: expect.stringContaining('unsupported invite protocol version 2') })
    expect(decodeInviterMessage({ type: 'proof', v: 1 }).ok).toBe(false)
  })
})

describe('addresses handed out and guests admitted', () => {
  it('hands out listen addresses without /p2p, loopback only when there is nothing else', () => {
    expect(reachableAddrs(['/ip4/127.0.0.1/tcp/4101/p2p/' + PEER_A, '/ip4/10.0.0.5/tcp/4101/p2p/' + PEER_A])).toEqual(['/ip4/10.0.0.5/tcp/4101'])
    expect(reachableAddrs(['/ip4/127.0.0.1/tcp/4101/p2p/' + PEER_A])).toEqual(['/ip4/127.0.0.1/tcp/4101'])
    expect(reachableAddrs([])).toEqual([])
  })

  it('admits peers not in the config only while an invitation is open, at most N a minute', () => {
    const clock = { now: 0, open: false, limited: 0 }
    const admit = guestAdmission({ invitationOpen: () => clock.open, now: () => clock.now, perMinute: 3, onLimited: () => { clock.limited++ } })
    expect(admit('p')).toBe(false)
    clock.open = true
    expect([admit('p1'), admit('p2'), admit('p3'), admit('p4'), admit('p5')]).toEqual([true, true, true, false, false])
    expect(clock.limited).toBe(1)
    clock.now = 59_999
    expect(admit('p6')).toBe(false)
    clock.now = 60_000
    expect(admit('p7')).toBe(true)
    clock.open = false
    clock.now = 200_000
    expect(admit('p8')).toBe(false)
  })
})
