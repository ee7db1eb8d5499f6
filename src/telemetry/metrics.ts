/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms
 * with labels, plus collectors that read live values (pool stats, loop lag) at scrape time.
 *
 * Written here rather than taken from prom-client because prom-client's default event-loop and
 * GC families are wrong or empty under Deno (DENO_NOTES §7) and the hot path needs label lookups
 * that allocate nothing: a labelled child is fetched once and kept.
 *
 * @module
 */

/** Label values of one series, in the order the metric declared its label names. */
export type LabelValues = readonly string[];

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Bound on label combinations per metric, so a label bug cannot exhaust memory. */
const SERIES_PER_METRIC_MAX = 10_000;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: LabelValues, extra?: string): string {
  const parts: string[] = [];
  for (let i = 0; i < names.length; i++) parts.push(`${names[i]}="${escapeLabel(values[i])}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

abstract class Metric<Child> {
  readonly #children = new Map<string, { values: LabelValues; child: Child }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME_RE.test(name)) {
      throw new Error(`metric name: expected [a-zA-Z_:][a-zA-Z0-9_:]*, found "${name}"`);
    }
    for (const l of labelNames) {
      if (!LABEL_RE.test(l)) {
        throw new Error(`label name: expected [a-zA-Z_][a-zA-Z0-9_]*, found "${l}"`);
      }
    }
  }
  protected abstract newChild(): Child;
  abstract readonly type: string;
  /** The series for these label values; keep the result on hot paths (lookup allocates a key). */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new Error(
        `${this.name}: expected ${this.labelNames.length} label values, found ${values.length}`,
      );
    }
    const key = values.join("\u0000");
    let entry = this.#children.get(key);
    if (!entry) {
      if (this.#children.size >= SERIES_PER_METRIC_MAX) {
        throw new Error(`${this.name}: more than ${SERIES_PER_METRIC_MAX} label combinations`);
      }
      entry = { values: values.slice(), child: this.newChild() };
      this.#children.set(key, entry);
    }
    return entry.child;
  }
  protected series(): Iterable<{ values: LabelValues; child: Child }> {
    return this.#children.values();
  }
  abstract render(): string;
}

/** A monotonically increasing count. */
export class CounterChild {
  value = 0;
  /** Adds `n` (default 1); negative amounts are a programming error. */
  inc(n = 1): void {
    if (!(n >= 0)) throw new Error(`counter increment: expected n >= 0, found ${n}`);
    this.value += n;
  }
  /** Sets the count from a source that keeps its own monotonic total (scrape-time collectors). */
  syncTo(total: number): void {
    if (!(total >= this.value)) {
      throw new Error(`counter sync: expected a total >= ${this.value}, found ${total}`);
    }
    this.value = total;
  }
}

/** A counter metric. */
export class Counter extends Metric<CounterChild> {
  readonly type = "counter";
  protected newChild(): CounterChild {
    return new CounterChild();
  }
  render(): string {
    let s = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const { values, child } of this.series()) {
      s += `${this.name}${labelText(this.labelNames, values)} ${formatNumber(child.value)}\n`;
    }
    return s;
  }
}

/** A value that goes up and down. */
export class GaugeChild {
  value = 0;
  /** Sets the value. */
  set(v: number): void {
    this.value = v;
  }
}

/** A gauge metric. */
export class Gauge extends Metric<GaugeChild> {
  readonly type = "gauge";
  protected newChild(): GaugeChild {
    return new GaugeChild();
  }
  render(): string {
    let s = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const { values, child } of this.series()) {
      s += `${this.name}${labelText(this.labelNames, values)} ${formatNumber(child.value)}\n`;
    }
    return s;
  }
}

/** Cumulative histogram buckets for one series. */
export class HistogramChild {
  readonly counts: Float64Array;
  /** [sum, count]: kept in a typed array because a double field is boxed on every write. */
  readonly #totals = new Float64Array(2);
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  /** Sum of observations. */
  get sum(): number {
    return this.#totals[0];
  }
  /** Number of observations. */
  get count(): number {
    return this.#totals[1];
  }
  /** Records one observation; allocates nothing. */
  observe(v: number): void {
    this.#totals[0] += v;
    this.#totals[1]++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/** A histogram metric with fixed bucket upper bounds. */
export class Histogram extends Metric<HistogramChild> {
  readonly type = "histogram";
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly bounds: readonly number[],
  ) {
    super(name, help, labelNames);
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) {
        throw new Error(`${name}: expected increasing bucket bounds`);
      }
    }
  }
  protected newChild(): HistogramChild {
    return new HistogramChild(this.bounds);
  }
  render(): string {
    let s = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const { values, child } of this.series()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += child.counts[i];
        s += `${this.name}_bucket${
          labelText(this.labelNames, values, `le="${formatNumber(this.bounds[i])}"`)
        } ${cumulative}\n`;
      }
      s += `${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${child.count}\n`;
      s += `${this.name}_sum${labelText(this.labelNames, values)} ${formatNumber(child.sum)}\n`;
      s += `${this.name}_count${labelText(this.labelNames, values)} ${child.count}\n`;
    }
    return s;
  }
}

/** Called at scrape time to refresh gauges from live state. */
export type Collector = () => void;

/** The set of metrics one process exposes on `/metrics`. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric<unknown>>();
  readonly #collectors: Collector[] = [];

  #add<M extends Metric<unknown>>(m: M): M {
    if (this.#metrics.has(m.name)) throw new Error(`metric "${m.name}" registered twice`);
    this.#metrics.set(m.name, m);
    return m;
  }
  /** Registers a counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }
  /** Registers a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }
  /** Registers a histogram. */
  histogram(
    name: string,
    help: string,
    opts: { labelNames?: readonly string[]; bounds: readonly number[] },
  ): Histogram {
    return this.#add(new Histogram(name, help, opts.labelNames ?? [], opts.bounds));
  }
  /** Adds a scrape-time collector. */
  collect(fn: Collector): void {
    this.#collectors.push(fn);
  }
  /** The exposition text. */
  render(): string {
    for (const c of this.#collectors) c();
    let s = "";
    for (const m of this.#metrics.values()) s += m.render();
    return s;
  }
}

/** Content type of {@linkcode MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
