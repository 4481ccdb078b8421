/**
 * Runtime shims that must be installed before libp2p loads.
 *
 * libp2p 3 (and yamux, it-queue, mortice) call `Promise.withResolvers`, which
 * Node 20 lacks. Without it the inbound upgrade fails with a misleading
 * EncryptionFailedError. Import this module first in every entry point; it
 * only installs the shim when the runtime has none (Node 22+ keeps its own).
 */
export {}

interface PromiseWithResolversShim<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const promiseCtor = Promise as unknown as { withResolvers?: <T>() => PromiseWithResolversShim<T> }

if (typeof promiseCtor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): PromiseWithResolversShim<T> {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}
