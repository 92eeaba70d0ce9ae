// Summaries of repeated measurements: median, min and max, and the ratio of a
// contender against the baseline of the same run.

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `{ median, min, max, runs }` of a list of numbers. */
export function summary(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/** How many times faster than the baseline (baseline time / contender time). */
export function speedup(contender, baseline) {
  return baseline.median / contender.median;
}
