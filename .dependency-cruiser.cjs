/**
 * The layers of labmesh, and the one rule between them: imports go down.
 * docs/architecture.md draws the same picture; test/unit/layers.test.ts runs
 * this check in the suite (and `npm run layers` from a shell).
 *
 * Bottom to top — a layer may import only the layers listed for it:
 *   protocol/            the wire, objects, vectors, the error base
 *   store/  config/      LevelDB schema and transactions; the config schema and loader
 *   agent/runtime/, agent/errors.ts   logger, timers, process tuning; the agent's errors
 *   agent/rules/         pure import/serve rules (protocol only)
 *   agent/connectors/    the instance seam (embedded, memory, SENAITE)
 *   agent/apply/         the apply pipeline, failed queue, local writes, dry run
 *   agent/net/           libp2p mesh and identity
 *   agent/sync/          sessions, replicator, progress
 *   agent/verify/        anti-entropy verify: the digest walk (both sides), repair, the verifier
 *   agent/blobs/         blob transfers (fetch, serve), garbage collection
 *   agent/invite/        invitations: the invite handshake (both sides), the invitations kept
 *   agent/observe/       events, metrics, the status report
 *   agent/admin/         the HTTP adapter (Hono)
 *   agent/agent.ts, agent/compose/, agent/test-hooks.ts   the composition root, its steps, the tests' way in
 *   agent/cli/, agent/demo/   entry points
 */
const LAYERS = {
  protocol: { path: '^protocol/', may: ['protocol'] },
  store: { path: '^store/', may: ['protocol', 'store'] },
  config: { path: '^config/', may: ['protocol', 'config'] },
  base: { path: '^agent/(runtime/|errors\\.ts$)', may: ['protocol', 'base'] },
  rules: { path: '^agent/rules/', may: ['protocol', 'rules'] },
  connectors: { path: '^agent/connectors/', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors'] },
  apply: { path: '^agent/apply/', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors', 'apply'] },
  net: { path: '^agent/net/', may: ['protocol', 'config', 'base', 'net'] },
  sync: { path: '^agent/sync/', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors', 'apply', 'net', 'sync'] },
  verify: { path: '^agent/verify/', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors', 'apply', 'net', 'sync', 'verify'] },
  blobs: { path: '^agent/blobs/', may: ['protocol', 'store', 'config', 'base', 'rules', 'apply', 'net', 'sync', 'blobs'] },
  invite: { path: '^agent/invite/', may: ['protocol', 'config', 'base', 'sync', 'invite'] },
  observe: { path: '^agent/observe/', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors', 'apply', 'net', 'sync', 'blobs', 'verify', 'invite', 'observe'] },
  admin: { path: '^agent/admin/', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors', 'apply', 'net', 'sync', 'blobs', 'verify', 'invite', 'observe', 'admin'] },
  root: { path: '^agent/(agent\\.ts$|test-hooks\\.ts$|compose/)', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors', 'apply', 'net', 'sync', 'blobs', 'verify', 'invite', 'observe', 'admin', 'root'] },
  entry: { path: '^agent/(cli|demo)/', may: ['protocol', 'store', 'config', 'base', 'rules', 'connectors', 'apply', 'net', 'sync', 'blobs', 'verify', 'invite', 'observe', 'admin', 'root', 'entry'] }
}

const layerRules = Object.entries(LAYERS).map(([name, layer]) => ({
  name: `layer-${name}`,
  comment: `${layer.path} may import only: ${layer.may.join(', ')} (imports go down the layers; see docs/architecture.md)`,
  severity: 'error',
  from: { path: layer.path },
  to: {
    path: '^(agent|protocol|store|config)/',
    pathNot: layer.may.map((m) => LAYERS[m].path)
  }
}))

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-test-hooks-in-production',
      comment: 'agent/test-hooks.ts opens the agent\'s internals to tests; programs use the public Agent (add to it what they need)',
      severity: 'error',
      from: { path: '^(agent|protocol|store|config|bench)/', pathNot: '^agent/(agent|test-hooks)\\.ts$' },
      to: { path: '^agent/test-hooks\\.ts$' }
    },
    {
      name: 'no-circular',
      comment: 'a cycle between modules makes their order of loading and of reading matter: break it with a narrower module',
      severity: 'error',
      from: { path: '^(agent|protocol|store|config)/' },
      to: { circular: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] }
  }
}
