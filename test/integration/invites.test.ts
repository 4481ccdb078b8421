/**
 * Invitations between agents in process (real libp2p on 127.0.0.1, real
 * LevelDB, config files on disk): a code joins two agents both ways through
 * the admin API, their files keep the admin's comments, objects flow; a
 * reused, an expired, an altered and a wrong code each get their own error
 * and change nothing; a restart neither loses an open invitation nor revives
 * a used one; a peer without a code still reaches nothing — not the
 * sync protocol while an invitation is open, not even the invite protocol
 * when none is.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import type { AgentDeps } from '../../agent/compose/start.js'
import { loadConfigFile } from '../../config/load.js'
import { encodeInviteCode, decodeInviteCode } from '../../protocol/invite-code.js'
import { INVITE_PROTOCOL_ID } from '../../protocol/invite-constants.js'
import { encodeFrame } from '../../protocol/codec.js'
import { PROTOCOL_VERSION } from '../../protocol/constants.js'
import { adminCall } from '../helpers/admin.js'
import { ADMIN_COMMENTS, keepsEveryLine, writeCommentedConfig } from '../helpers/config-files.js'
import { useTestMesh, type TestMesh } from '../helpers/lifecycle.js'
import { waitFor, type TestNode } from '../helpers/nodes.js'
import { createRawPeer, drain } from '../helpers/raw-peer.js'

const HOUR = 3_600_000

async function startFromFile (mesh: TestMesh, node: TestNode, deps: AgentDeps = {}): Promise<{ agent: Agent, file: string }> {
  const file = await writeCommentedConfig(node)
  return { agent: await mesh.start(await loadConfigFile(file), deps), file }
}

async function invite (agent: Agent, body: Record<string, unknown> = {}): Promise<string> {
  const { status, json } = await adminCall<{ code: string }>(agent, 'POST', '/api/invites', { body })
  expect(status, JSON.stringify(json)).toBe(201)
  return json.code
}

async function join (agent: Agent, code: string, body: Record<string, unknown> = {}): Promise<{ status: number, json: Record<string, unknown> }> {
  return await adminCall(agent, 'POST', '/api/join', { body: { code, ...body } })
}

describe('invitations', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c'], { prefix: 'labmesh-invite-' })

  it('joins two agents through a code, both ways, keeping the admin\'s comments; objects flow; the code is spent', async () => {
    const a = await startFromFile(mesh, mesh.node('lab-a'))
    const b = await startFromFile(mesh, mesh.node('lab-b'))
    const [aBefore, bBefore] = [await readFile(a.file, 'utf8'), await readFile(b.file, 'utf8')]

    const code = await invite(a.agent, { pull: true })
    expect(code).toMatch(/^labmesh_invite_[a-z2-7]+$/)
    expect(decodeInviteCode(code)).toMatchObject({ peerId: a.agent.peerId, domain: 'lab-a', addrs: [mesh.node('lab-a').addr] })
    const joined = await join(b.agent, code, { pull: true })
    expect(joined.status, JSON.stringify(joined.json)).toBe(200)
    expect(joined.json).toMatchObject({ joined: true, peer: { name: 'lab-a', peerId: a.agent.peerId, pull: true }, nameThere: 'lab-b', file: b.file })

    // both files: every line the admin wrote, plus the other agent — and that is what runs now
    for (const [side, before, other] of [[a, aBefore, b.agent], [b, bBefore, a.agent]] as const) {
      const after = await readFile(side.file, 'utf8')
      expect(keepsEveryLine(before.replace('peers: []                # none yet: `labmesh join` or `labmesh invite` adds them', 'peers:                # none yet: `labmesh join` or `labmesh invite` adds them'), after), after).toBe(true)
      for (const comment of ADMIN_COMMENTS) expect(after).toContain(comment)
      expect(after).toContain(`peerId: ${other.peerId}`)
      expect((await loadConfigFile(side.file)).peers).toEqual(side.agent.config.peers)
      expect(side.agent.config.peers).toMatchObject([{ peerId: other.peerId, pull: true }])
    }
    expect(a.agent.status()).toMatchObject({ configFile: a.file, peers: [{ name: 'lab-b', pull: true }] })

    await a.agent.documents.put({ uid: 'from-a', type: 'Client', id: 'c-a', data: {} })
    await b.agent.documents.put({ uid: 'from-b', type: 'Client', id: 'c-b', data: {} })
    await waitFor(async () => await b.agent.documents.get('from-a'), { what: 'A\'s object on B' })
    await waitFor(async () => await a.agent.documents.get('from-b'), { what: 'B\'s object on A' })

    // the same joiner again (its answer lost, say) is welcomed again and nothing is added twice
    expect((await join(b.agent, code)).status).toBe(200)
    expect(a.agent.config.peers).toHaveLength(1)
    // another agent with the same code: used
    const c = await startFromFile(mesh, mesh.node('lab-c'))
    const cBefore = await readFile(c.file, 'utf8')
    const reused = await join(c.agent, code)
    expect(reused).toMatchObject({ status: 409, json: { error: 'INVITE_USED' } })
    expect(reused.json.message).toContain('already used')
    expect(await readFile(c.file, 'utf8')).toBe(cBefore)
    expect(a.agent.config.peers).toHaveLength(1)
    const listed = await adminCall<{ items: Array<Record<string, unknown>> }>(a.agent, 'GET', '/api/invites')
    expect(listed.json.items).toMatchObject([{ state: 'used', usedBy: b.agent.peerId, usedName: 'lab-b', pull: true }])
    expect(JSON.stringify(listed.json)).not.toContain(decodeInviteCode(code).secret)
  })

  it('tells an expired, an altered and a wrong code apart, and changes nothing for any', async () => {
    const skew = { a: 0, c: 0 }
    const a = await startFromFile(mesh, mesh.node('lab-a'), { now: () => Date.now() + skew.a })
    const c = await startFromFile(mesh, mesh.node('lab-c'), { now: () => Date.now() + skew.c })
    const [aBefore, cBefore] = [await readFile(a.file, 'utf8'), await readFile(c.file, 'utf8')]
    const soon = await invite(a.agent, { expires: '1h' })
    const later = await invite(a.agent, { expires: '3h' })

    // altered on the way: one character changed, or cut short
    const altered = soon.slice(0, 40) + (soon[40] === 'a' ? 'b' : 'a') + soon.slice(41)
    expect(await join(c.agent, altered)).toMatchObject({ status: 400, json: { error: 'INVITE_DAMAGED' } })
    expect(await join(c.agent, soon.slice(0, -3))).toMatchObject({ status: 400, json: { error: 'INVITE_DAMAGED' } })
    expect(await join(c.agent, 'hello, here is my peer ID')).toMatchObject({ status: 400, json: { error: 'INVITE_MALFORMED' } })

    // wrong: intact, but A never issued it (another secret)
    const real = decodeInviteCode(soon)
    const forged = encodeInviteCode({ ...real, id: randomBytes(8).toString('hex'), secret: randomBytes(16).toString('hex') })
    expect(await join(c.agent, forged)).toMatchObject({ status: 403, json: { error: 'INVITE_UNKNOWN' } })
    const wrongSecret = encodeInviteCode({ ...real, secret: randomBytes(16).toString('hex') })
    expect(await join(c.agent, wrongSecret)).toMatchObject({ status: 403, json: { error: 'INVITE_UNKNOWN' } })

    // expired by the joiner's clock: refused before anything is dialled
    skew.c = 2 * HOUR
    const early = await join(c.agent, soon)
    expect(early).toMatchObject({ status: 410, json: { error: 'INVITE_EXPIRED' } })
    // expired by the inviter's clock (which decides): A says so
    skew.c = 0
    skew.a = 2 * HOUR
    const late = await join(c.agent, soon)
    expect(late).toMatchObject({ status: 410, json: { error: 'INVITE_EXPIRED' } })
    expect(late.json.message).toContain('lab-a refused')

    // nothing changed anywhere; and the code still valid works
    expect(await readFile(a.file, 'utf8')).toBe(aBefore)
    expect(await readFile(c.file, 'utf8')).toBe(cBefore)
    expect(a.agent.config.peers).toEqual([])
    expect((await join(c.agent, later)).status).toBe(200)
    expect(a.agent.config.peers).toMatchObject([{ name: 'lab-c', peerId: c.agent.peerId, pull: false }])
  })

  it('keeps invitations across a restart: an open one still admits, a used one stays used', async () => {
    const A = mesh.node('lab-a')
    const first = await startFromFile(mesh, A)
    const open = await invite(first.agent, { pull: true })
    const spent = await invite(first.agent)
    const c = await startFromFile(mesh, mesh.node('lab-c'))
    expect((await join(c.agent, spent)).status).toBe(200)
    await mesh.stop(first.agent)

    const again = await mesh.start(await loadConfigFile(first.file))
    const b = await startFromFile(mesh, mesh.node('lab-b'))
    expect((await join(b.agent, open)).status).toBe(200)
    expect(await join(b.agent, spent)).toMatchObject({ status: 409, json: { error: 'INVITE_USED' } })
    expect(again.config.peers.map((p) => [p.name, p.pull])).toEqual([['lab-c', false], ['lab-b', true]])
    const listed = await adminCall<{ items: Array<{ state: string }> }>(again, 'GET', '/api/invites')
    expect(listed.json.items.map((i) => i.state)).toEqual(['used', 'used'])
  })

  it('a peer without a code reaches nothing: no connection without an open invitation, no sync protocol with one', async () => {
    const A = mesh.node('lab-a')
    const a = await startFromFile(mesh, A)
    const stranger = await createRawPeer(await generateKeyPair('Ed25519'))
    try {
      // no invitation: the gater refuses the connection, so not even the invite protocol opens
      // (the dial may complete on the stranger's side before A's refusal resets it: then the stream hears nothing)
      const noInvite = await stranger.open(A.addr, A.peerId, INVITE_PROTOCOL_ID).then(async (s) => await drain(s, 3000), () => ({ bytes: 0, closed: true }))
      expect(noInvite).toEqual({ bytes: 0, closed: true })
      await invite(a.agent)
      // with one: the invite protocol answers (its challenge) …
      const handshake = await stranger.open(A.addr, A.peerId, INVITE_PROTOCOL_ID)
      const first = await handshake[Symbol.asyncIterator]().next()
      expect(first.done).toBe(false)
      handshake.abort(new Error('enough'))
      // … and the sync protocol stays shut: the stream is reset, nothing is said, nothing served
      const sync = await stranger.open(A.addr, A.peerId).catch(() => undefined)
      if (sync !== undefined) {
        try {
          sync.send(encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, domain: 'lab-z', head: 0, count: 0, epoch: 'e' }))
        } catch {
          // reset already: refused before we could say anything
        }
        expect(await drain(sync)).toEqual({ bytes: 0, closed: true })
      }
      expect(a.agent.status().peers).toEqual([])
    } finally {
      await stranger.stop()
    }
  })
})
