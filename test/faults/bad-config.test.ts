/**
 * Bad config matrix: every broken config fails before the agent starts, with
 * a message that names the field and says what to do. Schema and cross-field
 * problems go through the loader (all of them at once, by path); problems
 * only visible with the files in hand (keys, token, swarm key, store, ports)
 * go through createAgent().start(), which must leave nothing behind; a few go
 * through `labmesh start` as a process, as an admin would meet them.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAgent } from '../../agent/agent.js'
import { ConfigError } from '../../config/errors.js'
import { silentLogger } from '../../agent/runtime/logger.js'
import { parseConfigText, type LoadedConfig } from '../../config/load.js'
import { createLevelStore } from '../../store/level-store.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { freePort, makeTempDir, meshConfig, removeDir } from '../helpers/nodes.js'
import { runCli, writeNodeConfig } from '../helpers/processes.js'

const PEER_A = '12D3KooWAcTaJ23seN9VarBkxhFAWZAo4mwwYsMbYCkdWpEu8kj9'
const PEER_B = '12D3KooWNU2E8j3Wpi2JsXAH6RdWDfvZ5nQTtk9PSGfrakSpdpaL'
const PEER = (extra: string): string => `peers:\n  - { name: m, peerId: ${PEER_A}, addrs: [/ip4/127.0.0.1/tcp/4100]${extra} }\n`

interface Expected { path: string, message: RegExp, fix: RegExp }

/** name, YAML, the issues it must produce (others may come too) */
const SCHEMA_CASES: Array<[string, string, Expected[]]> = [
  ['unknown top-level key', 'domain: lab-a\npeerz: []\n', [{ path: '(top level)', message: /unknown key "peerz"/, fix: /spelling/ }]],
  ['unknown nested key', 'domain: lab-a\nhttp: { lisen: 127.0.0.1:1 }\n', [{ path: 'http', message: /unknown key "lisen"/, fix: /spelling/ }]],
  ['misspelt peer key', `domain: lab-a\n${PEER(', pul: true')}`, [{ path: 'peers[0]', message: /unknown key "pul"/, fix: /spelling/ }]],
  ['misspelt serve rule key', `domain: lab-a\n${PEER(', serve: { types: { onyl: [Client] } }')}`, [{ path: 'peers[0].serve.types', message: /unknown key "onyl"/, fix: /spelling/ }]],
  ['domain of the wrong type', 'domain: 42\n', [{ path: 'domain', message: /expected string, got number/, fix: /unique name/ }]],
  ['domain with a space', 'domain: lab a\n', [{ path: 'domain', message: /letters, digits/, fix: /unique name/ }]],
  ['missing domain', 'dataDir: ./data\n', [{ path: 'domain', message: /is required/, fix: /unique name/ }]],
  ['listen given as a string', 'domain: lab-a\nlisten: /ip4/127.0.0.1/tcp/1\n', [{ path: 'listen', message: /expected array, got string/, fix: /multiaddr/ }]],
  ['listen not a multiaddr', 'domain: lab-a\nlisten: [127.0.0.1:4100]\n', [{ path: 'listen[0]', message: /not a valid multiaddr/, fix: /\/ip4\/127\.0\.0\.1\/tcp/ }]],
  ['peer address not a multiaddr', `domain: lab-a\npeers:\n  - { name: m, peerId: ${PEER_A}, addrs: ['tcp://10.0.0.5:4100'] }\n`, [{ path: 'peers[0].addrs[0]', message: /not a valid multiaddr/, fix: /listen multiaddrs/ }]],
  ['peer address with an impossible IP', `domain: lab-a\npeers:\n  - { name: m, peerId: ${PEER_A}, addrs: [/ip4/300.1.2.3/tcp/4100] }\n`, [{ path: 'peers[0].addrs[0]', message: /not a valid multiaddr/, fix: /listen multiaddrs/ }]],
  ['peer ID that is not one', `domain: lab-a\npeers:\n  - { name: m, peerId: 12D3KooWnotreally, addrs: [/ip4/127.0.0.1/tcp/1] }\n`, [{ path: 'peers[0].peerId', message: /not a valid libp2p peer ID/, fix: /labmesh id/ }]],
  ['http.listen without a port', 'domain: lab-a\nhttp: { listen: localhost }\n', [{ path: 'http.listen', message: /HOST:PORT/, fix: /HOST:PORT/ }]],
  ['http.listen port out of range', 'domain: lab-a\nhttp: { listen: 127.0.0.1:70000 }\n', [{ path: 'http.listen', message: /65535/, fix: /HOST:PORT/ }]],
  ['http.maxBodyBytes too small', 'domain: lab-a\nhttp: { maxBodyBytes: 10 }\n', [{ path: 'http.maxBodyBytes', message: /1024|too small/i, fix: /correct the value/ }]],
  ['batch size as a string', 'domain: lab-a\nsync: { batchSize: "500" }\n', [{ path: 'sync.batchSize', message: /expected number, got string/, fix: /whole number/ }]],
  ['window of zero', 'domain: lab-a\nsync: { window: 0 }\n', [{ path: 'sync.window', message: /too small|>=\s*1/i, fix: /whole number/ }]],
  ['pull not a boolean', `domain: lab-a\n${PEER(', pull: yes-please')}`, [{ path: 'peers[0].pull', message: /expected boolean, got string/, fix: /boolean/ }]],
  ['interval not a duration', `domain: lab-a\n${PEER(', autoSync: { interval: soon }')}`, [{ path: 'peers[0].autoSync.interval', message: /not a duration/, fix: /30s, 5m/ }]],
  ['peers given as a map', 'domain: lab-a\npeers: { m: {} }\n', [{ path: 'peers', message: /expected array, got object/, fix: /array/ }]],
  ['duplicate peer names', `domain: lab-a\npeers:\n  - { name: m, peerId: ${PEER_A} }\n  - { name: m, peerId: ${PEER_B} }\n`, [{ path: 'peers[1].name', message: /duplicates the name of peers\[0\]/, fix: /unique name/ }]],
  ['duplicate peer IDs', `domain: lab-a\npeers:\n  - { name: m, peerId: ${PEER_A} }\n  - { name: n, peerId: ${PEER_A} }\n`, [{ path: 'peers[1].peerId', message: /duplicates the peerId of peers\[0\]/, fix: /merge the two entries/ }]],
  ['a peer named like this agent', `domain: lab-a\npeers:\n  - { name: lab-a, peerId: ${PEER_A} }\n`, [{ path: 'peers[0].name', message: /own domain/, fix: /another agent/ }]],
  ['pull from a peer without addresses', `domain: lab-a\npeers:\n  - { name: m, peerId: ${PEER_A}, pull: true }\n`, [{ path: 'peers[0].addrs', message: /cannot dial/, fix: /listen multiaddrs/ }]],
  ['a type both only and skipped', `domain: lab-a\n${PEER(', types: { only: [Client], skip: [Client] }')}`, [{ path: 'peers[0].types.skip', message: /"Client".*types\.only/, fix: /at most one of only\/skip/ }]],
  ['a type both read-only and update-only', `domain: lab-a\n${PEER(', types: { readOnly: [Method], updateOnly: [Method] }')}`, [{ path: 'peers[0].types.updateOnly', message: /"Method".*types\.readOnly/, fix: /readOnly\/updateOnly/ }]],
  ['a prefix without prefixable types', `domain: lab-a\n${PEER(', prefix: B')}`, [{ path: 'peers[0].types.prefixable', message: /prefix "B" is set/, fix: /list the types|clear prefix/ }]],
  ['prefixable types without a prefix', `domain: lab-a\n${PEER(', types: { prefixable: [AnalysisRequest] }')}`, [{ path: 'peers[0].prefix', message: /is empty/, fix: /set this peer's prefix/ }]],
  ['a peer prefix equal to localPrefix', `domain: lab-a\nlocalPrefix: A\n${PEER(', prefix: A, types: { prefixable: [AnalysisRequest] }')}`, [{ path: 'peers[0].prefix', message: /equals localPrefix "A"/, fix: /different from/ }]],
  ['an unknown instance kind', 'domain: lab-a\ninstance: { kind: oracle }\n', [{ path: 'instance.kind', message: /.+/, fix: /kind: embedded/ }]],
  ['senaite without a password', 'domain: lab-a\ninstance: { kind: senaite, url: "https://lims.example/senaite", username: u }\n', [{ path: 'instance.passwordFile', message: /passwordFile or passwordEnv/, fix: /senaite instance keys/ }]],
  ['private network without a key file', 'domain: lab-a\nprivateNetwork: {}\n', [{ path: 'privateNetwork.pskFile', message: /is required/, fix: /string/ }]],
  ['an unknown log level', 'domain: lab-a\nlog: { level: loud }\n', [{ path: 'log.level', message: /.+/, fix: /fatal, error, warn/ }]],
  ['YAML syntax error', 'domain: [unclosed\n', [{ path: '(yaml)', message: /.+/, fix: /YAML syntax/ }]]
]

function issuesOf (text: string): ConfigError['issues'] {
  try {
    parseConfigText(text, '/etc/labmesh/lab-a.yaml')
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return err.issues
  }
  throw new Error('the config was accepted')
}

describe('bad config matrix: schema and cross-field problems', () => {
  it.each(SCHEMA_CASES)('%s', (_name, yaml, expected) => {
    const issues = issuesOf(yaml)
    for (const want of expected) {
      const issue = issues.find((i) => i.path === want.path)
      expect(issue, `an issue at ${want.path}; got ${JSON.stringify(issues)}`).toBeDefined()
      expect(issue!.message).toMatch(want.message)
      expect(issue!.fix).toMatch(want.fix)
    }
  })

  it('reports every problem of a config at once, each in the error message with its fix', () => {
    const text = 'domain: lab a\nlisten: [nope]\nsync: { window: 0 }\n' + `peers:\n  - { name: m, peerId: ${PEER_A}, pul: true }\n  - { name: m, peerId: ${PEER_A}, pull: true }\n`
    let error: ConfigError | undefined
    try { parseConfigText(text, '/etc/labmesh/lab-a.yaml') } catch (err) { error = err as ConfigError }
    expect(error).toBeInstanceOf(ConfigError)
    const paths = error!.issues.map((i) => i.path)
    expect(paths).toEqual(expect.arrayContaining(['domain', 'listen[0]', 'sync.window', 'peers[0]', 'peers[1].name', 'peers[1].peerId', 'peers[1].addrs']))
    for (const issue of error!.issues) expect(error!.message).toContain(`${issue.path}: ${issue.message}. Fix: ${issue.fix}`)
    expect(error!.message).toContain('/etc/labmesh/lab-a.yaml')
  })
})

describe('bad config matrix: problems found at start', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b'], { prefix: 'labmesh-badcfg-', shared: true })

  /** Start an agent from `config`; it must fail, stay stopped and leave its store and port free. */
  async function failsToStart (config: LoadedConfig): Promise<Error> {
    const agent = createAgent(config, { logger: silentLogger() })
    const error = await agent.start().then(() => undefined, (err: unknown) => err as Error)
    if (error === undefined) {
      await agent.stop()
      throw new Error('the agent started')
    }
    expect(agent.state).toBe('stopped')
    // nothing left behind: the store opens again and the HTTP port binds
    const store = createLevelStore({ location: config.paths.storeDir, domain: config.domain })
    await store.open().then(async () => await store.close(), () => {})
    return error
  }

  const base = (extra: Record<string, unknown> = {}, links = [{ node: mesh.node('lab-b') }]): LoadedConfig => meshConfig(mesh.node('lab-a'), links, extra as never)

  it.each([
    ['identity key missing', async () => ({ identity: { keyFile: join(mesh.root, 'no-such.key') } }), /identity\.keyFile/, /labmesh init/],
    ['identity key not a key', async () => { await writeFile(join(mesh.root, 'garbage.key'), 'garbage'); return { identity: { keyFile: join(mesh.root, 'garbage.key') } } }, /not a libp2p private key/, /labmesh init|restore it/],
    ['admin token file missing', async () => ({ http: { listen: '127.0.0.1:0', tokenFile: join(mesh.root, 'no-such.token') } }), /http\.tokenFile/, /labmesh init|write a long random/],
    ['admin token file unreadable', async () => { await mkdir(join(mesh.root, 'token-is-a-dir'), { recursive: true }); return { http: { listen: '127.0.0.1:0', tokenFile: join(mesh.root, 'token-is-a-dir') } } }, /http\.tokenFile/, /permissions|point/],
    ['admin token too short', async () => { await writeFile(join(mesh.root, 'short.token'), 'abc\n'); return { http: { listen: '127.0.0.1:0', tokenFile: join(mesh.root, 'short.token') } } }, /shorter than 16/, /longer random token/],
    ['swarm key missing', async () => ({ privateNetwork: { pskFile: join(mesh.root, 'no-such.psk') } }), /privateNetwork\.pskFile/, /swarm key/],
    ['swarm key malformed', async () => { await writeFile(join(mesh.root, 'bad.psk'), 'not a key'); return { privateNetwork: { pskFile: join(mesh.root, 'bad.psk') } } }, /privateNetwork\.pskFile/, /unchanged/],
    ['dataDir is a file', async () => { await writeFile(join(mesh.root, 'a-file'), 'x'); return { dataDir: join(mesh.root, 'a-file'), identity: { keyFile: join(mesh.node('lab-a').dir, 'data', 'identity.key') }, http: { listen: '127.0.0.1:0', tokenFile: join(mesh.node('lab-a').dir, 'data', 'admin.token') } } }, /dataDir/, /writable|directory/]
  ] as Array<[string, () => Promise<Record<string, unknown>>, RegExp, RegExp]>)('%s', async (_name, make, field, fix) => {
    const error = await failsToStart(base(await make()))
    expect(error.message).toMatch(field)
    expect(error.message).toMatch(fix)
  })

  it('a peer listed with this agent\'s own peer ID', async () => {
    const self = { ...mesh.node('lab-b'), domain: 'mirror', peerId: mesh.node('lab-a').peerId }
    const error = await failsToStart(base({}, [{ node: mesh.node('lab-b') }, { node: self }]))
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues).toEqual([expect.objectContaining({ path: 'peers[1].peerId', message: expect.stringMatching(/own peer ID/), fix: expect.stringMatching(/labmesh id/) })])
  })

  it('a store made for another domain', async () => {
    const other = await makeTempDir('labmesh-other-')
    const store = createLevelStore({ location: join(other, 'store'), domain: 'lab-z' })
    await store.open()
    await store.close()
    const error = await failsToStart(base({ dataDir: other, identity: { keyFile: join(mesh.node('lab-a').dir, 'data', 'identity.key') }, http: { listen: '127.0.0.1:0', tokenFile: join(mesh.node('lab-a').dir, 'data', 'admin.token') } }))
    expect(error.message).toMatch(/belongs to domain "lab-z"/)
    expect(error.message).toMatch(/dataDir/)
    await removeDir(other)
  })

  it('listen and http.listen addresses already in use', async () => {
    const blocker = createAgent(meshConfig(mesh.node('lab-b'), []), { logger: silentLogger() })
    await blocker.start()
    try {
      const p2p = await failsToStart(base({ listen: [mesh.node('lab-b').addr] }))
      expect(p2p.message).toMatch(/listen\[0\]/)
      expect(p2p.message).toMatch(/in use/)
      expect(p2p.message).toMatch(/another port|stop whatever/)
      const http = await failsToStart(base({ http: { listen: `127.0.0.1:${mesh.node('lab-b').httpPort}` } }))
      expect(http.message).toMatch(/http\.listen/)
      expect(http.message).toMatch(/another port|stop whatever/)
    } finally {
      await blocker.stop()
    }
  })

  it('labmesh start refuses broken configs with the field and the fix, exit code 2 or 1', async () => {
    const A = mesh.node('lab-a')
    const bad = join(mesh.root, 'bad.yaml')
    await writeFile(bad, `domain: lab-a\nhttp: { lisen: 127.0.0.1:1 }\npeers:\n  - { name: m, peerId: ${PEER_A}, pull: true, types: { only: [Client], skip: [Client] } }\n`)
    const schema = await runCli(['start', '--config', bad])
    expect(schema.code).toBe(2)
    for (const text of ['http: unknown key "lisen"', 'peers[0].addrs:', 'peers[0].types.skip:', 'Fix:']) expect(schema.stderr).toContain(text)
    expect(schema.stdout).not.toContain('labmesh ready')

    const file = await writeNodeConfig(A, [{ node: mesh.node('lab-b') }], { identity: { keyFile: './data/nope.key' }, http: { listen: `127.0.0.1:${await freePort()}` } })
    const key = await runCli(['start', '--config', file])
    expect(key.code).toBe(1)
    expect(key.stderr).toMatch(/identity\.keyFile/)
    expect(key.stderr).toMatch(/labmesh init/)
    expect(key.stdout).not.toContain('labmesh ready')

    await mkdir(join(A.dir, 'token-dir'), { recursive: true })
    const tokenFile = await writeNodeConfig(A, [{ node: mesh.node('lab-b') }], { http: { listen: `127.0.0.1:${await freePort()}`, tokenFile: './token-dir' } })
    const token = await runCli(['start', '--config', tokenFile])
    expect(token.code).toBe(1)
    expect(token.stderr).toMatch(/http\.tokenFile/)
  })
})
