/**
 * The contract every pooled object fulfils. The pool knows nothing else about its objects.
 *
 * @module
 */

/** An object a {@linkcode BoundedPool} can hand out, take back and reuse. */
export interface Poolable {
  /**
   * Returns every field to the value a freshly constructed object has. Arrays are emptied in
   * place (their capacity is kept: that is the point of pooling).
   */
  reset(): void;
  /**
   * Debug mode only: overwrite fields with sentinel values so a use after release fails loudly
   * (validation rejects them, arithmetic yields NaN). The next acquire calls `reset()` first.
   */
  poison?(): void;
}
