/** A byte count as people read it: GiB with one decimal, whole MiB, or KiB. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${Math.round(n / 2 ** 20)} MiB`;
  return `${Math.max(1, Math.round(n / 1024))} KiB`;
}
