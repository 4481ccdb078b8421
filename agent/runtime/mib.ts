/** Bytes as MiB for people: one decimal under 10 MiB, whole MiB above ("3.4 MiB", "120 MiB"). */
export function formatMiB (bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MiB`
}
