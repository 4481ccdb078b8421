// libp2p 3 needs Promise.withResolvers, which Node 20 lacks: install the shim first.
import '../agent/runtime/polyfills.js'
