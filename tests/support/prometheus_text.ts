/**
 * Test support: a strict reader of the Prometheus text exposition format.
 *
 * @module
 */

/**
 * Parses exposition text into `name{labels}` -> value; throws on any line that is neither a
 * HELP/TYPE comment nor a valid sample.
 */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const sampleRe =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = sampleRe.exec(line);
    if (!m) throw new Error(`invalid exposition line: ${line}`);
    samples.set(m[1] + (m[2] ?? ""), Number(m[3] === "+Inf" ? Infinity : m[3]));
  }
  return samples;
}
