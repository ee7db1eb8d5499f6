/**
 * The terminal live view of `deno task start`: events per second by kind, book state and top of
 * book per symbol, and the last trade each symbol delivered through the real pipeline (the view
 * is an ordinary in-process consumer subscribed to trades).
 *
 * On a TTY it redraws a table in place every second; elsewhere it prints one summary line every
 * few seconds so logs stay readable. It writes to stderr: stdout carries the JSON log lines.
 *
 * @module
 */

import type { Consumer, ConsumerRegistry } from "../consumer/mod.ts";
import type { ConsumerEvent } from "../consumer/mod.ts";

/** A book row as the view shows it. */
export interface ViewBook {
  provider: string;
  symbol: string;
  state: string;
  bestBid: string;
  bestAsk: string;
}

/** Where the view reads its numbers. */
export interface LiveViewSource {
  /** Cumulative events emitted per canonical kind, all providers. */
  eventsByKind(): Record<string, number>;
  books(): ViewBook[];
  symbols(): string[];
  /** Providers carried; with two or more the view also follows one merged stream. */
  providers?(): string[];
}

/** Options of {@linkcode LiveView}. */
export interface LiveViewOptions {
  source: LiveViewSource;
  consumers: ConsumerRegistry;
  /** true: redraw a table (TTY); false: one summary line per `summaryEveryMs`. */
  table: boolean;
  /** Redraw period, ms. Default 1000. */
  refreshMs?: number;
  /** Summary line period when not a table, ms. Default 5000. */
  summaryEveryMs?: number;
  write?: (text: string) => void;
}

const KINDS = ["trade", "book_snapshot", "book_update", "ticker", "kline"] as const;
const ROWS_MAX = 20;
/** Window of the merged stream the view follows, ms. */
const MERGE_VIEW_WINDOW_MS = 1000;
const encoder = new TextEncoder();

function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

/** The live view; `start()` subscribes and begins drawing, `stop()` ends both. */
export class LiveView {
  readonly #opts: LiveViewOptions;
  readonly #write: (text: string) => void;
  readonly #lastTrade = new Map<string, string>();
  #consumer: Consumer | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #prev: Record<string, number> = {};
  #prevAt = 0;
  #linesDrawn = 0;
  #sinceSummaryMs = 0;
  /** The merged stream the view follows: its spec text and the last window it saw. */
  #merged: { label: string; windows: number; last: string } | null = null;

  constructor(opts: LiveViewOptions) {
    this.#opts = opts;
    this.#write = opts.write ?? writeStderr;
  }

  /** Subscribes the view's consumer to every symbol's trades and starts the redraw timer. */
  start(): void {
    const c = this.#opts.consumers.create("switchyard-live-view", { queueEventsMax: 1024 });
    this.#consumer = c;
    for (const symbol of this.#opts.source.symbols()) {
      c.subscribe({ provider: "*", symbol, kind: "trade" });
    }
    const providers = this.#opts.source.providers?.() ?? [];
    const symbol = this.#opts.source.symbols()[0];
    if (providers.length >= 2 && symbol !== undefined) {
      // One merged stream shows the windowed merge at work: trades of one symbol from every
      // venue, one window per second.
      const r = c.mergedSubscribe({
        symbol,
        kind: "trade",
        providers,
        windowMs: MERGE_VIEW_WINDOW_MS,
      });
      if (r.ok) {
        this.#merged = { label: `${symbol} trades ${providers.join("+")}`, windows: 0, last: "" };
      }
    }
    c.onEvent((ev: ConsumerEvent) => {
      if (ev.type === "merged") {
        if (this.#merged) {
          this.#merged.windows++;
          const per = new Map<string, number>();
          for (const f of ev.fragments) per.set(f.provider, (per.get(f.provider) ?? 0) + 1);
          this.#merged.last = `${ev.mergeId.split(":").pop()} ` +
            [...per].map(([p, n]) => `${p} ${n}`).join(", ");
        }
        return;
      }
      if (ev.type !== undefined) return; // gap markers (and exec reports) have no last trade
      this.#lastTrade.set(
        `${ev.provider}:${ev.symbol}`,
        `${ev.side === "buy" ? "+" : "-"}${ev.qty}@${ev.price}`,
      );
    });
    this.#prev = { ...this.#opts.source.eventsByKind() };
    this.#prevAt = performance.now();
    const refreshMs = this.#opts.refreshMs ?? 1000;
    this.#timer = setInterval(() => this.#draw(refreshMs), refreshMs);
  }

  /** Stops drawing and removes the consumer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#consumer?.close();
    this.#consumer = null;
  }

  /** The current frame as text (exposed for tests). */
  render(): string {
    const now = performance.now();
    const counts = this.#opts.source.eventsByKind();
    const secs = Math.max(0.001, (now - this.#prevAt) / 1000);
    const rates = KINDS.map((k) =>
      `${k} ${Math.round(((counts[k] ?? 0) - (this.#prev[k] ?? 0)) / secs)}`
    );
    this.#prev = { ...counts };
    this.#prevAt = now;
    const books = this.#opts.source.books();
    const live = books.filter((b) => b.state === "LIVE").length;
    const head =
      `switchyard ${new Date().toISOString().slice(11, 19)}  events/s: ${rates.join("  ")}  ` +
      `books LIVE ${live}/${books.length}`;
    const merged = this.#merged
      ? `  merged ${this.#merged.label}: ${this.#merged.windows} windows, last ${
        this.#merged.last || "-"
      }`
      : "";
    if (!this.#opts.table) return head + (merged ? `\n${merged}` : "");
    const lines = [head];
    for (const b of books.slice(0, ROWS_MAX)) {
      const trade = this.#lastTrade.get(`${b.provider}:${b.symbol}`) ?? "-";
      lines.push(
        `  ${b.symbol.padEnd(11)} ${b.provider.padEnd(8)} ${b.state.padEnd(9)} ` +
          `${(b.bestBid || "-").padStart(16)} / ${(b.bestAsk || "-").padEnd(16)} last ${trade}`,
      );
    }
    if (books.length > ROWS_MAX) {
      lines.push(`  ... ${books.length - ROWS_MAX} more (GET /v1/books)`);
    }
    if (merged) lines.push(merged);
    return lines.join("\n");
  }

  #draw(refreshMs: number): void {
    if (!this.#opts.table) {
      this.#sinceSummaryMs += refreshMs;
      if (this.#sinceSummaryMs < (this.#opts.summaryEveryMs ?? 5000)) return;
      this.#sinceSummaryMs = 0;
      this.#write(this.render() + "\n");
      return;
    }
    const text = this.render();
    // Move the cursor back over the previous frame and clear it, then draw the new one.
    const clear = this.#linesDrawn > 0 ? `\x1b[${this.#linesDrawn}F\x1b[J` : "";
    this.#linesDrawn = text.split("\n").length;
    this.#write(clear + text + "\n");
  }
}
