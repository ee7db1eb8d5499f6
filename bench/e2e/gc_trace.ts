/**
 * GC pauses from V8's `--trace-gc --trace-gc-nvp` output (DENO_NOTES §4): one
 * `[pid:isolate:n]   <ms> ms: GC: {"pause":..,"gc":"s"|"mc"|..,"reason":..}` line per pause,
 * stamped with V8's own clock (ms since the isolate started, printed when the pause ends). The
 * child forces one GC (`gc()`, reason `testing`) right before its window and reports
 * `performance.now()` at that moment, which maps V8's clock onto the child's.
 *
 * @module
 */

/** One GC pause. */
export interface GcPause {
  /** V8 clock when the pause ended, ms (integer resolution). */
  endV8Ms: number;
  /** Pause, ms. */
  pauseMs: number;
  /** V8's kind: `s` scavenge, `mc` mark-compact, `mmc` minor mark-compact, ... */
  kind: string;
  /** Why it ran. */
  reason: string;
}

const NVP_LINE = /\]\s+([0-9.]+) ms: GC: (\{.*\})\s*$/;

/** Every GC pause in `lines` (other lines are ignored). */
export function parseGcTrace(lines: readonly string[]): GcPause[] {
  const out: GcPause[] = [];
  for (const line of lines) {
    const m = NVP_LINE.exec(line);
    if (m === null) continue;
    let fields: { pause?: unknown; gc?: unknown; reason?: unknown };
    try {
      fields = JSON.parse(m[2]);
    } catch {
      continue; // a line cut by interleaved output: skip it rather than guess
    }
    if (typeof fields.pause !== "number") continue;
    out.push({
      endV8Ms: Number(m[1]),
      pauseMs: fields.pause,
      kind: String(fields.gc ?? ""),
      reason: String(fields.reason ?? ""),
    });
  }
  return out;
}

/** The child's clock readings that place its window on V8's clock. */
export interface GcWindow {
  /** `performance.now()` right before the marker `gc()`. */
  gcMarkNowMs: number;
  /** `performance.now()` at the window's start and end. */
  windowStartNowMs: number;
  windowEndNowMs: number;
}

/** Pauses inside the window; `aligned` is false when no marker GC was found (then none). */
export function pausesInWindow(
  pauses: readonly GcPause[],
  window: GcWindow,
): { aligned: boolean; pauses: GcPause[] } {
  const marker = pauses.find((p) => p.reason === "testing");
  if (marker === undefined) return { aligned: false, pauses: [] };
  // The marker started (V8 clock) when the child read gcMarkNowMs (child clock).
  const v8MinusChildMs = marker.endV8Ms - marker.pauseMs - window.gcMarkNowMs;
  const startV8Ms = window.windowStartNowMs + v8MinusChildMs;
  const endV8Ms = window.windowEndNowMs + v8MinusChildMs;
  return {
    aligned: true,
    pauses: pauses.filter((p) => {
      const beganV8Ms = p.endV8Ms - p.pauseMs;
      return p !== marker && beganV8Ms >= startV8Ms && beganV8Ms < endV8Ms;
    }),
  };
}
