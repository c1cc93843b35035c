/**
 * The value at position `k` of `values` sorted ascending, as `values.sort()[k]` gives it (a NaN sorts last),
 * by selection instead of a full sort. Reorders `values`.
 */
export function kthSmallest(values: Float32Array | Float64Array, k: number): number {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) return values.sort()[k];
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    // Hoare partition around the middle value; the k-th value stays inside [lo, hi].
    const pivot = values[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}
