#!/usr/bin/env node
// Entry point of the `labmesh` command: the polyfills load before libp2p does.
import '../dist/agent/runtime/polyfills.js'
import { main, reportFatal } from '../dist/agent/cli/main.js'

main(process.argv).catch(reportFatal)
