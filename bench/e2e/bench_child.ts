/**
 * Orchestrator side of the child protocol (`child_io.ts`): spawns a benchmark child with
 * `Deno.execPath()`, queues its `E2E <TAG> <json>` lines, keeps its other stderr lines for error
 * messages, optionally keeps its stdout lines (V8's GC trace), probes its clock, and stops it.
 *
 * @module
 */

import { PROTOCOL_PREFIX, readLines, sharedNowMs } from "./child_io.ts";

/** Options of {@linkcode BenchChild.spawn}. */
export interface SpawnOptions {
  /** Name used in errors. */
  name: string;
  /** The child's entry module. */
  script: URL;
  /** Passed to the child as one JSON argument. */
  args: unknown;
  /** Deno permission flags for the child (`--allow-net=127.0.0.1`, ...). */
  permissions: readonly string[];
  /** V8 flags (`--trace-gc`, ...). */
  v8Flags?: readonly string[];
  /** Keep every stdout line (the GC trace); otherwise stdout is read and dropped. */
  captureStdout?: boolean;
  /** Working directory (the project root, so deno.json and node_modules are found). */
  cwd: string;
}

/** A protocol message from a child. */
interface Message {
  tag: string;
  payload: unknown;
}

interface Waiter {
  tag: string;
  resolve: (payload: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Clock offset of a child against this process, from the probe with the shortest round trip. */
export interface ClockOffset {
  /** Child clock minus this process's clock, ms. */
  offsetMs: number;
  /** Round trip of the probe used; the offset is exact to within half of it, ms. */
  rttMs: number;
}

/** Diagnostic stderr lines kept per child. */
const DIAGNOSTICS_MAX = 200;

/** A running benchmark child. */
export class BenchChild {
  /** Name used in errors. */
  readonly name: string;
  /** Stdout lines, when captured. */
  readonly stdoutLines: string[] = [];
  /** Non-protocol stderr lines (latest {@linkcode DIAGNOSTICS_MAX}). */
  readonly diagnostics: string[] = [];
  readonly #process: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #queue: Message[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #readers: Promise<void>[];
  #exit: Deno.CommandStatus | null = null;

  private constructor(opts: SpawnOptions) {
    this.name = opts.name;
    const v8 = opts.v8Flags !== undefined && opts.v8Flags.length > 0
      ? [`--v8-flags=${opts.v8Flags.join(",")}`]
      : [];
    this.#process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...opts.permissions,
        ...v8,
        opts.script.pathname,
        JSON.stringify(opts.args),
      ],
      cwd: opts.cwd,
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#process.stdin.getWriter();
    const capture = opts.captureStdout ?? false;
    const stdout = this.#process.stdout;
    const lines = this.stdoutLines;
    this.#readers = [
      this.#readStderr(),
      (async () => {
        // Always read: a full pipe would block the child.
        for await (const line of readLines(stdout)) if (capture) lines.push(line);
      })(),
    ];
    void this.#process.status.then((status) => {
      this.#exit = status;
      this.#failWaiters(`exited with code ${status.code}`);
    });
  }

  /** Starts a child. */
  static spawn(opts: SpawnOptions): BenchChild {
    return new BenchChild(opts);
  }

  /** Sends one command line. */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  /** The payload of the next message tagged `tag` (queued or future); rejects on `ERROR`/exit. */
  waitFor<T>(tag: string, timeoutMs: number): Promise<T> {
    const at = this.#queue.findIndex((m) => m.tag === tag || m.tag === "ERROR");
    if (at !== -1) {
      const [message] = this.#queue.splice(at, 1);
      if (message.tag === "ERROR") {
        return Promise.reject(this.#error(JSON.stringify(message.payload)));
      }
      return Promise.resolve(message.payload as T);
    }
    if (this.#exit !== null) {
      return Promise.reject(this.#error(`exited with code ${this.#exit.code}`));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        tag,
        resolve: (payload) => resolve(payload as T),
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(this.#error(`expected ${tag} within ${timeoutMs} ms, found none`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /**
   * Measures the child's clock against ours: `rounds` probes, each bracketed by our clock; the
   * one with the shortest round trip wins (NTP-style: offset = child time - mid-point).
   */
  async probeClock(rounds: number): Promise<ClockOffset> {
    let best: ClockOffset = { offsetMs: 0, rttMs: Infinity };
    for (let i = 0; i < rounds; i++) {
      const sentMs = sharedNowMs();
      await this.send("probe");
      const { t } = await this.waitFor<{ t: number }>("CLOCK", 5000);
      const backMs = sharedNowMs();
      const rttMs = backMs - sentMs;
      if (rttMs < best.rttMs) best = { offsetMs: t - (sentMs + backMs) / 2, rttMs };
    }
    return best;
  }

  /** Asks the child to exit; kills it after `timeoutMs`. Waits for its output to end. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.#exit === null) {
      try {
        await this.send("exit");
        await this.#stdin.close();
      } catch {
        // Already gone: the status below tells.
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          try {
            this.#process.kill("SIGKILL");
          } catch {
            // Exited in the meantime.
          }
          resolve();
        }, timeoutMs);
      });
      await Promise.race([this.#process.status, killed]);
      clearTimeout(timer);
      await this.#process.status;
    }
    await Promise.all(this.#readers);
  }

  async #readStderr(): Promise<void> {
    for await (const line of readLines(this.#process.stderr)) {
      if (!line.startsWith(PROTOCOL_PREFIX)) {
        this.diagnostics.push(line);
        if (this.diagnostics.length > DIAGNOSTICS_MAX) this.diagnostics.shift();
        continue;
      }
      const rest = line.slice(PROTOCOL_PREFIX.length);
      const space = rest.indexOf(" ");
      const tag = space === -1 ? rest : rest.slice(0, space);
      const payload: unknown = space === -1 ? {} : JSON.parse(rest.slice(space + 1));
      this.#deliver({ tag, payload });
    }
  }

  #deliver(message: Message): void {
    const at = this.#waiters.findIndex((w) => w.tag === message.tag || message.tag === "ERROR");
    if (at === -1) {
      this.#queue.push(message);
      return;
    }
    const [waiter] = this.#waiters.splice(at, 1);
    clearTimeout(waiter.timer);
    if (message.tag === "ERROR") waiter.reject(this.#error(JSON.stringify(message.payload)));
    else waiter.resolve(message.payload);
  }

  #failWaiters(why: string): void {
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(this.#error(why));
    }
  }

  #error(why: string): Error {
    const tail = this.diagnostics.slice(-15).join("\n");
    return new Error(`bench child "${this.name}" ${why}${tail === "" ? "" : `; stderr:\n${tail}`}`);
  }
}
