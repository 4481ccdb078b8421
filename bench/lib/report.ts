/**
 * How benchmark programs report: exactly one JSON line of results on stdout,
 * human logs on stderr, rates and durations rounded the same way everywhere,
 * and a wall clock that is comparable between processes on one machine.
 */
import { cpus, totalmem } from 'node:os'

/** One JSON line on stdout: the only thing a benchmark prints there. */
export function emitResult (result: object): void {
  process.stdout.write(JSON.stringify(result) + '\n')
}

export type BenchLog = (message: string, fields?: Readonly<Record<string, unknown>>) => void

export function createBenchLog (name: string): BenchLog {
  return (message, fields) => {
    const extra = fields === undefined ? '' : ' ' + JSON.stringify(fields)
    process.stderr.write(`${new Date().toISOString()} ${name}: ${message}${extra}\n`)
  }
}

/**
 * Milliseconds since the Unix epoch with sub-millisecond resolution; both
 * processes of a two-process benchmark read the same system clock, so their
 * timestamps can be subtracted.
 */
export function wallClockMs (): number {
  return performance.timeOrigin + performance.now()
}

export function perSecond (count: number, ms: number): number {
  return ms > 0 ? Math.round(count / ms * 1000) : 0
}

export function seconds (ms: number): number {
  return Math.round(ms) / 1000
}

export function megabytesPerSecond (bytes: number, ms: number): number {
  return ms > 0 ? Math.round(bytes / 1e6 / (ms / 1000) * 10) / 10 : 0
}

export interface MachineInfo {
  readonly node: string
  readonly platform: string
  readonly arch: string
  readonly cpus: number
  readonly cpuModel: string
  readonly memoryMiB: number
}

export function machineInfo (): MachineInfo {
  const list = cpus()
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 1048576)
  }
}
