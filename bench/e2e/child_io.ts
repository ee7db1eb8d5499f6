/**
 * The line protocol between the benchmark's orchestrator and its child processes. Commands go
 * to the child's stdin, one per line (`probe`, `warm 3000`, `dump <path>`, `exit`...). Replies
 * go to the child's **stderr** as `E2E <TAG> <json>` lines: stdout is left to V8's `--trace-gc`
 * output, which is written through a separate C stdio buffer and could otherwise split a
 * protocol line in two.
 *
 * @module
 */

/** Prefix of every protocol line. */
export const PROTOCOL_PREFIX = "E2E ";

/** The shared clock: epoch ms with sub-ms fraction, comparable across processes on one host. */
export function sharedNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Writes one protocol line to stderr (synchronously, so it is out before the next step). */
export function reply(tag: string, payload: unknown = {}): void {
  const line = `${PROTOCOL_PREFIX}${tag} ${JSON.stringify(payload)}\n`;
  const bytes = new TextEncoder().encode(line);
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}

/** Lines of a byte stream, without their line ends. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline !== -1) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered !== "") yield buffered;
}

/**
 * Runs the child's command loop over stdin: `probe` is answered here (`CLOCK {"t": shared ms}`),
 * everything else goes to `handle`, one command at a time. Ends at `exit` or end of input.
 */
export async function serveCommands(
  handle: (command: string, arg: string) => Promise<void> | void,
): Promise<void> {
  for await (const line of readLines(Deno.stdin.readable)) {
    const text = line.trim();
    if (text === "") continue;
    const space = text.indexOf(" ");
    const command = space === -1 ? text : text.slice(0, space);
    const arg = space === -1 ? "" : text.slice(space + 1);
    if (command === "probe") {
      reply("CLOCK", { t: sharedNowMs() });
      continue;
    }
    if (command === "exit") return;
    await handle(command, arg);
  }
}
