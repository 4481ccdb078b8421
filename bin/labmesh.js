#!/usr/bin/env node
// Entry point of the `labmesh` command: the polyfills load before libp2p does.
import '../dist/agent/polyfills.js'
import { main, reportFatal } from '../dist/agent/cli.js'

main(process.argv).catch(reportFatal)
