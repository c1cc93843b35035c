/**
 * The k best candidates by value, best first; between equal values the earlier position (in `order`) wins, so
 * the result does not depend on the order of the offers.
 */
export class TopK {
  private readonly ids: Int32Array;
  private readonly values: Float64Array;
  private readonly positions: Int32Array;
  private k: number;
  size = 0;

  /** Keeps `k` (at most `capacity`, by default `k`; `reset` starts over with another k up to it). */
  constructor(k: number, capacity = k) {
    this.ids = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
    this.positions = new Int32Array(capacity);
    this.k = k;
  }

  /** Empty again, keeping the `k` best from now on (at most the capacity): as a new `TopK(k)`. */
  reset(k: number): this {
    if (k > this.ids.length) throw new RangeError(`TopK of ${k} over a capacity of ${this.ids.length}`);
    this.k = k;
    this.size = 0;
    this.ids.fill(0, 0, k);
    this.values.fill(0, 0, k);
    this.positions.fill(0, 0, k);
    return this;
  }

  /** The largest k `reset` takes. */
  get capacity(): number {
    return this.ids.length;
  }

  get full(): boolean {
    return this.size === this.k;
  }

  /** The value of the last kept candidate (only meaningful when full). */
  get lastValue(): number {
    return this.values[this.k - 1];
  }

  /** Whether a candidate with this value at this position would be kept. */
  admits(value: number, position: number): boolean {
    if (this.size < this.k) return true;
    const last = this.values[this.k - 1];
    return value > last || (value === last && position < this.positions[this.k - 1]);
  }

  offer(id: number, value: number, position: number): void {
    if (!this.admits(value, position)) return;
    let j = this.size < this.k ? this.size++ : this.k - 1;
    while (
      j > 0 &&
      (this.values[j - 1] < value || (this.values[j - 1] === value && this.positions[j - 1] > position))
    ) {
      this.values[j] = this.values[j - 1];
      this.ids[j] = this.ids[j - 1];
      this.positions[j] = this.positions[j - 1];
      j--;
    }
    this.values[j] = value;
    this.ids[j] = id;
    this.positions[j] = position;
  }

  at(i: number): number {
    return this.ids[i];
  }

  valueAt(i: number): number {
    return this.values[i];
  }
}
