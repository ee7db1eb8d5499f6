/**
 * Latency histograms of the order benchmark: one HdrHistogram (3 significant digits, values in
 * microseconds) per provider and one over all providers, with the percentiles the report shows.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";

/** Percentiles of one histogram, ms. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** The key of the all-providers histogram. */
export const ALL_PROVIDERS = "all";

/** Histograms keyed by provider, plus {@linkcode ALL_PROVIDERS}. */
export class LatencySet {
  readonly #byKey = new Map<string, hdr.Histogram>();

  /** Records one latency of `provider`, ms (kept to the microsecond; at least 1 µs). */
  record(provider: string, latencyMs: number): void {
    const us = Math.max(1, Math.round(latencyMs * 1000));
    this.#histogram(provider).recordValue(us);
    this.#histogram(ALL_PROVIDERS).recordValue(us);
  }

  /** Samples recorded for `key`. */
  count(key: string): number {
    return this.#byKey.get(key)?.totalCount ?? 0;
  }

  /** Percentiles of `key` (a provider or {@linkcode ALL_PROVIDERS}); null when empty. */
  summary(key: string): LatencySummary | null {
    const h = this.#byKey.get(key);
    if (h === undefined || h.totalCount === 0) return null;
    const ms = (us: number): number => us / 1000;
    return {
      count: h.totalCount,
      p50: ms(h.getValueAtPercentile(50)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    };
  }

  /** Frees the histograms. */
  destroy(): void {
    for (const h of this.#byKey.values()) h.destroy();
    this.#byKey.clear();
  }

  #histogram(key: string): hdr.Histogram {
    let h = this.#byKey.get(key);
    if (h === undefined) {
      h = hdr.build({ numberOfSignificantValueDigits: 3 });
      this.#byKey.set(key, h);
    }
    return h;
  }
}
