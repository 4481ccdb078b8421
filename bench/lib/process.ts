/**
 * Benchmark worker processes: run a module in a child `node` process and call
 * named methods in it over the IPC channel, request/response.
 *
 * Parent: `spawnWorker({ name, module })` resolves once the child reports
 * ready; `call(method, params)` resolves with the method's return value or
 * rejects with the child's error; `stop()` asks the child to shut down and
 * kills it if it does not exit in time.
 * Child: `serveWorker(methods)` answers calls until `__shutdown`.
 *
 * Invariants: the child's stdout and stderr go to the parent's stderr, line by
 * line with a `[name]` prefix, so a benchmark's stdout carries only its one
 * JSON result line. A child whose parent goes away exits. Every pending call
 * rejects when the child exits.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'

const SHUTDOWN = '__shutdown'

interface CallMessage { readonly kind: 'call', readonly id: number, readonly method: string, readonly params: unknown }
interface ResultMessage {
  readonly kind: 'result'
  readonly id: number
  readonly ok: boolean
  readonly value?: unknown
  readonly error?: { readonly name: string, readonly message: string, readonly stack?: string }
}
interface ReadyMessage { readonly kind: 'ready' }
type ChildMessage = ResultMessage | ReadyMessage

export class WorkerError extends Error {
  override readonly name: string = 'WorkerError'
}

/** The child process ended (or could not start) while a call or the start-up was pending. */
export class WorkerExitedError extends WorkerError {
  override readonly name = 'WorkerExitedError'
}

export interface WorkerExit { readonly code: number | null, readonly signal: NodeJS.Signals | null }

export interface WorkerHandle {
  readonly name: string
  readonly pid: number
  call: <R = unknown>(method: string, params?: unknown, options?: { readonly timeoutMs?: number }) => Promise<R>
  /** Graceful shutdown (the child's onShutdown runs), SIGKILL after `timeoutMs`. Idempotent. */
  stop: (timeoutMs?: number) => Promise<WorkerExit>
  readonly exited: Promise<WorkerExit>
}

/** how agent processes are started: node flags and environment (bench/run.ts agentProcess) */
export interface AgentProcess {
  readonly execArgv: readonly string[]
  readonly env: NodeJS.ProcessEnv
}

export interface SpawnWorkerOptions {
  /** label for log lines and errors */
  readonly name: string
  /** the compiled worker module (a file URL or path to a .js file) */
  readonly module: URL | string
  readonly args?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly execArgv?: readonly string[]
  readonly readyTimeoutMs?: number
}

export async function spawnWorker (options: SpawnWorkerOptions): Promise<WorkerHandle> {
  const modulePath = options.module instanceof URL ? fileURLToPath(options.module) : options.module
  const child: ChildProcess = fork(modulePath, [...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: options.env ?? process.env,
    execArgv: [...(options.execArgv ?? [])]
  })
  const name = options.name
  if (child.stdout !== null) prefixLines(child.stdout, name)
  if (child.stderr !== null) prefixLines(child.stderr, name)

  const pending = new Map<number, { readonly method: string, resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  let nextId = 1
  let exitInfo: WorkerExit | undefined
  // Not Promise.withResolvers: Node 20 lacks it and this helper must not depend on the libp2p polyfill.
  let readyResolve!: () => void
  let readyReject!: (err: Error) => void
  const readyPromise = new Promise<void>((resolve, reject) => { readyResolve = resolve; readyReject = reject })
  readyPromise.catch(() => undefined)
  const ready = { promise: readyPromise, resolve: () => readyResolve(), reject: (err: Error) => readyReject(err) }
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal }
      const err = new WorkerExitedError(`worker ${name} exited (code ${code}, signal ${signal})`)
      ready.reject(err)
      for (const p of pending.values()) p.reject(err)
      pending.clear()
      resolve(exitInfo)
    })
  })
  child.once('error', (err) => ready.reject(new WorkerExitedError(`worker ${name} failed to start: ${err.message}`)))
  child.on('message', (raw: unknown) => {
    const msg = raw as ChildMessage
    if (msg.kind === 'ready') { ready.resolve(); return }
    if (msg.kind !== 'result') return
    const p = pending.get(msg.id)
    if (p === undefined) return
    pending.delete(msg.id)
    if (msg.ok) p.resolve(msg.value)
    else {
      const err = new WorkerError(`${name}.${p.method}: ${msg.error?.name ?? 'Error'}: ${msg.error?.message ?? 'unknown error'}`)
      if (msg.error?.stack !== undefined) err.stack = `${err.message}\n[${name}] ${msg.error.stack}`
      p.reject(err)
    }
  })

  const timer = setTimeout(() => ready.reject(new WorkerError(`worker ${name} not ready after ${options.readyTimeoutMs ?? 30_000} ms`)),
    options.readyTimeoutMs ?? 30_000)
  try {
    await ready.promise
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  } finally {
    clearTimeout(timer)
  }

  const call = async <R>(method: string, params?: unknown, callOptions?: { readonly timeoutMs?: number }): Promise<R> => {
    if (exitInfo !== undefined) throw new WorkerExitedError(`worker ${name} has exited`)
    const id = nextId++
    const result = new Promise<unknown>((resolve, reject) => { pending.set(id, { method, resolve, reject }) })
    const message: CallMessage = { kind: 'call', id, method, params: params ?? null }
    child.send(message)
    if (callOptions?.timeoutMs === undefined) return await result as R
    let t: NodeJS.Timeout | undefined
    try {
      return await Promise.race([result, new Promise<never>((_resolve, reject) => {
        t = setTimeout(() => reject(new WorkerError(`${name}.${method} timed out after ${callOptions.timeoutMs} ms`)), callOptions.timeoutMs)
      })]) as R
    } finally {
      clearTimeout(t)
    }
  }

  let stopping: Promise<WorkerExit> | undefined
  const stop = async (timeoutMs = 10_000): Promise<WorkerExit> => {
    stopping ??= (async () => {
      if (exitInfo !== undefined) return exitInfo
      const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      try {
        await call(SHUTDOWN).catch(() => undefined)
        return await exited
      } finally {
        clearTimeout(kill)
      }
    })()
    return await stopping
  }

  return { name, pid: child.pid ?? -1, call, stop, exited }
}

// `any`: params arrive as untyped IPC JSON; each method narrows its own.
export type WorkerMethods = Readonly<Record<string, (params: any) => unknown>>

export interface ServeWorkerOptions {
  /** runs on `__shutdown` before the process exits (close databases, servers, nodes) */
  readonly onShutdown?: () => Promise<void> | void
}

/** Child side: answer the parent's calls with `methods`; exit on `__shutdown` or when the parent goes away. */
export function serveWorker (methods: WorkerMethods, options: ServeWorkerOptions = {}): void {
  const send = process.send?.bind(process)
  if (send === undefined) throw new WorkerError('serveWorker: this process was not started with an IPC channel (use spawnWorker)')
  process.on('disconnect', () => process.exit(1))
  process.on('message', (raw: unknown) => {
    const msg = raw as CallMessage
    if (msg.kind !== 'call') return
    void (async () => {
      let reply: ResultMessage
      try {
        if (msg.method === SHUTDOWN) {
          await options.onShutdown?.()
          send({ kind: 'result', id: msg.id, ok: true, value: null } satisfies ResultMessage, undefined, undefined, () => process.exit(0))
          return
        }
        const method = methods[msg.method]
        if (method === undefined) throw new WorkerError(`unknown method ${msg.method}`)
        reply = { kind: 'result', id: msg.id, ok: true, value: await method(msg.params) ?? null }
      } catch (err) {
        const e = toError(err)
        reply = { kind: 'result', id: msg.id, ok: false, error: { name: e.name, message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) } }
      }
      send(reply)
    })()
  })
  send({ kind: 'ready' } satisfies ReadyMessage)
}

/** Some libraries reject with non-Errors (libp2p can reject with an Event); keep what they say. */
function toError (err: unknown): Error {
  if (err instanceof Error) return err
  if (typeof err === 'object' && err !== null && 'type' in err) {
    const inner = (err as { error?: unknown }).error
    const e = new Error(`${String((err as { type: unknown }).type)} event${inner instanceof Error ? `: ${inner.name}: ${inner.message}` : ''}`)
    if (inner instanceof Error && inner.stack !== undefined) e.stack = inner.stack
    return e
  }
  return new Error(String(err))
}

function prefixLines (stream: Readable, name: string): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    process.stderr.write(`[${name}] ${line}\n`)
  })
}
