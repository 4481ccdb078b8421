/**
 * `labmesh init`: a new agent directory with its config, identity key and
 * admin token. Refuses to overwrite anything that exists.
 */
import { access, mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConfigError } from '../../config/errors.js'
import { createAdminToken, createIdentityKey, peerIdOf } from '../net/identity.js'

export interface InitOptions {
  readonly domain: string
  readonly dir: string
  readonly listen?: string
  readonly http?: string
}

export interface InitResult {
  readonly peerId: string
  readonly configFile: string
  readonly keyFile: string
  readonly tokenFile: string
}

export async function initAgentDir (options: InitOptions): Promise<InitResult> {
  const dir = resolve(options.dir)
  const configFile = join(dir, 'labmesh.yaml')
  if (await exists(configFile)) {
    throw new ConfigError([{ path: '(file)', message: `${configFile} already exists`, fix: 'choose another --dir, or edit the existing file' }], configFile)
  }
  await mkdir(join(dir, 'data'), { recursive: true })
  const keyFile = join(dir, 'data', 'identity.key')
  const tokenFile = join(dir, 'data', 'admin.token')
  const key = await createIdentityKey(keyFile)
  await createAdminToken(tokenFile)
  const peerId = peerIdOf(key)
  const listen = options.listen ?? '/ip4/127.0.0.1/tcp/4101'
  const http = options.http ?? '127.0.0.1:8101'
  await writeFile(configFile, renderConfig(options.domain, listen, http, peerId), { flag: 'wx' })
  return { peerId, configFile, keyFile, tokenFile }
}

function renderConfig (domain: string, listen: string, http: string, peerId: string): string {
  return `# labmesh agent "${domain}" (peer ID ${peerId})
# Paths are relative to this file. Reference: config/examples/ in the labmesh sources.
domain: ${domain}
dataDir: ./data                 # LevelDB store, identity.key, admin.token
listen: [${listen}]
http:
  listen: ${http}            # admin API and status page; keep it on 127.0.0.1
instance: { kind: embedded }
localPrefix: ""                 # this lab's prefix on other labs, if they prefix its objects
peers: []
# peers:
#   - name: master
#     peerId: 12D3KooW...         # from \`labmesh id --config <master's labmesh.yaml>\`
#     addrs: [/ip4/10.0.0.5/tcp/4100]
#     pull: true                  # import from this peer (it is our "remote")
#     autoSync: { interval: 60s, live: true }
#     prefix: ""
#     types: { only: [], skip: [], prefixable: [], readOnly: [], updateOnly: [] }
#     import: { users: false, registry: false, settings: false }
`
}

async function exists (file: string): Promise<boolean> {
  try {
    await access(file)
    return true
  } catch {
    return false
  }
}
