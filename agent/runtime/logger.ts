/**
 * Logging: a pino logger is created once by the process wiring (cli.ts) and
 * injected everywhere else; components derive child loggers that carry their
 * name and, for sessions, the peer. No module-level logger exists.
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent, type DestinationStream } from 'pino'

export type Logger = PinoLogger

export interface LoggerOptions {
  level?: LevelWithSilent
  /** agent domain, added to every line */
  domain?: string
  destination?: DestinationStream
}

export function createLogger (options: LoggerOptions = {}): Logger {
  const base = options.domain !== undefined ? { domain: options.domain } : {}
  const opts = { level: options.level ?? 'info', base, timestamp: pino.stdTimeFunctions.isoTime }
  return options.destination !== undefined ? pino(opts, options.destination) : pino(opts, pino.destination(2))
}

/** A logger that drops everything: for tests and library use. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}

/** The short form of a peer ID used in log fields (last 8 characters). */
export function shortPeerId (peerId: string): string {
  return peerId.length > 8 ? `…${peerId.slice(-8)}` : peerId
}
