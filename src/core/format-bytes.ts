/** A byte count as people read it: GiB with one decimal, whole MiB, or KiB. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${Math.round(n / 2 ** 20)} MiB`;
  // Nothing is nothing ("1 KiB of models" beside "No downloaded models yet" read as a lie); any
  // other small count shows as at least 1 KiB.
  if (n === 0) return '0 KiB';
  return `${Math.max(1, Math.round(n / 1024))} KiB`;
}
