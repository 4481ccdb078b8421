/**
 * Which frame codecs a session offers (pulling) or accepts (serving), from
 * `sync.compression` and the link: pure functions, so the choice is tested
 * on its own.
 *
 * `auto` compresses on every link but loopback. Measured (bench/README.md,
 * "Slow links"): brotli at quality 1 carries a sync in 6.3× fewer bytes,
 * shortens it wherever the link is slower than the puller's apply (10 Mbit/s:
 * 69 → 41 s for 50,000 objects), and costs ~11 µs of CPU per object, split
 * over both sides; where the link is not the bottleneck (loopback: two agents
 * on one machine, which share its cores too) that CPU is all it brings. A LAN
 * at 1 Gbit/s outruns the puller as well, but losing a few per cent of CPU
 * there is cheap against a link-bound WAN sync, and an agent cannot tell the
 * two apart from an address; an admin on a fast LAN sets `off`.
 *
 * Serving, anything but `off` accepts every codec this runtime speaks: the
 * puller knows its link and its CPU, and its offer (or its silence) decides.
 */
import { availableCodecs, type CodecName } from '../../protocol/frame-compression.js'

export type CompressionSetting = 'auto' | 'off' | CodecName

/** A multiaddr (or host) on the loopback interface: 127.0.0.0/8 or ::1. */
export function isLoopback (address: string | undefined): boolean {
  if (address === undefined) return false
  return /^\/ip4\/127\.\d+\.\d+\.\d+(\/|$)/.test(address) || /^\/ip6\/::1(\/|$)/.test(address) || /^\/ip6\/0:0:0:0:0:0:0:1(\/|$)/.test(address)
}

/**
 * What a pull session offers, preferred first. A named codec this runtime
 * lacks (zstd before Node 22.15) gives way to the ones it has, so a config
 * written for a newer node still starts on an older one.
 */
export function offeredCodecs (setting: CompressionSetting, remoteAddress: string | undefined, available: readonly CodecName[] = availableCodecs()): CodecName[] {
  if (setting === 'off') return []
  if (setting === 'auto') return isLoopback(remoteAddress) ? [] : [...available]
  return available.includes(setting) ? [setting, ...available.filter((c) => c !== setting)] : [...available]
}

/** What a serve session accepts from a puller's offer. */
export function acceptedCodecs (setting: CompressionSetting, available: readonly CodecName[] = availableCodecs()): CodecName[] {
  return setting === 'off' ? [] : [...available]
}
