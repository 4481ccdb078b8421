#!/usr/bin/env node
// Entry point of the `labmesh` command. `labmesh start` first makes sure the
// agent runs in a node started with its memory settings (agent/cli/relaunch.ts):
// that check loads next to nothing, so a process that hands over stays small.
// Then the polyfills load before libp2p does.
import { adoptRelaunch, relaunchForAgent } from '../dist/agent/cli/relaunch.js'

let handedOver = false
try {
  // (in the relaunched node this finds nothing missing: it runs the command)
  handedOver = relaunchForAgent(process.argv)
  adoptRelaunch()
} catch (err) {
  process.stderr.write(`labmesh: ${err.message}\n`)
  process.exit(2)
}
if (!handedOver) {
  await import('../dist/agent/runtime/polyfills.js')
  const { main, reportFatal } = await import('../dist/agent/cli/main.js')
  main(process.argv).catch(reportFatal)
}
