#!/usr/bin/env node
// `npm start`: a master and two collaborator labs on loopback (see agent/demo/demo.ts).
import '../dist/agent/runtime/polyfills.js'
import { runDemo } from '../dist/agent/demo/demo.js'

runDemo().catch((err) => {
  process.stderr.write(`labmesh demo: ${err?.message ?? err}\n`)
  process.exitCode = 1
})
