/**
 * The exchange simulators as their own child process (`src/gateway/sim_cli.ts`), so that the
 * gateway under test does not carry their matching engines, signature checks and JSON: the
 * bench then measures the gateway's CPU per order apart from the simulators'. Reads the
 * CLI's JSON lines (`{"provider","urls","symbols"}` per provider, then `{"ready":true}`), turns
 * them into the gateway's `--endpoint <provider>.<role>=<url>` flags, samples the process's CPU
 * time from `/proc` and stops it with SIGTERM.
 *
 * @module
 */

import { procCpuMs } from "./proc_cpu.ts";

/** Options of {@linkcode SimProcess.start}. */
export interface SimProcessOptions {
  /** Project root (where `src/gateway/sim_cli.ts` is). */
  cwd: string;
  /** Providers to simulate. */
  providers: readonly string[];
  /** `--rate`: market events per second of each simulator. */
  eventsPerSecond: number;
  /** How long start-up may take, ms. */
  startTimeoutMs: number;
}

/** One line of the CLI's output: a provider and its URLs by `--endpoint` role. */
interface SimLine {
  provider: string;
  urls: Record<string, string>;
}

/** Log lines kept for error messages. */
const LOG_LINES_MAX = 50;

/** A running simulator child. */
export class SimProcess {
  /** The child's pid (the Deno process itself). */
  readonly pid: number;
  /** `--endpoint <provider>.<role>=<url>` flags (pairs) for a gateway, every printed role. */
  readonly endpointArgs: string[];
  readonly #process: Deno.ChildProcess;
  readonly #stderr: Promise<void>;

  private constructor(
    process: Deno.ChildProcess,
    endpointArgs: string[],
    stderr: Promise<void>,
  ) {
    this.#process = process;
    this.pid = process.pid;
    this.endpointArgs = endpointArgs;
    this.#stderr = stderr;
  }

  /** Spawns the simulators and waits for their URLs and `{"ready":true}`. */
  static async start(opts: SimProcessOptions): Promise<SimProcess> {
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net=127.0.0.1,localhost",
        "--allow-read",
        "src/gateway/sim_cli.ts",
        "--providers",
        opts.providers.join(","),
        "--rate",
        String(opts.eventsPerSecond),
        "--seed",
        "1",
      ],
      cwd: opts.cwd,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errLines: string[] = [];
    const stderr = (async () => {
      for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
        errLines.push(chunk);
        if (errLines.length > LOG_LINES_MAX) errLines.shift();
      }
    })();
    const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`expected the simulators ready within ${opts.startTimeoutMs} ms, found none`),
          ),
        opts.startTimeoutMs,
      );
    });
    try {
      const lines = await Promise.race([readUntilReady(reader), timeout]);
      // Keep draining stdout so the child never blocks on a full pipe.
      void (async () => {
        try {
          while (!(await reader.read()).done) { /* discard */ }
        } catch {
          // Cancelled at stop.
        }
      })();
      const endpointArgs = lines.flatMap((s) =>
        Object.entries(s.urls).flatMap((
          [role, url],
        ) => ["--endpoint", `${s.provider}.${role}=${url}`])
      );
      const missing = opts.providers.filter((p) => !lines.some((l) => l.provider === p));
      if (missing.length > 0) {
        throw new Error(
          `expected simulators of ${opts.providers.join(", ")}, found none for ${missing}`,
        );
      }
      return new SimProcess(process, endpointArgs, stderr);
    } catch (err) {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await process.status;
      await reader.cancel().catch(() => {});
      await stderr.catch(() => {});
      throw new Error(`${(err as Error).message}; simulator stderr:\n${errLines.join("")}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** User + system CPU time of the simulator process so far, ms (Linux `/proc`; 0 elsewhere). */
  cpuMs(): Promise<number> {
    return procCpuMs(this.pid);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; waits for the exit. */
  async stop(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    try {
      this.#process.kill("SIGTERM");
    } catch {
      // Already exited.
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
    const status = await this.#process.status;
    await this.#stderr.catch(() => {});
    return status;
  }
}

async function readUntilReady(reader: ReadableStreamDefaultReader<string>): Promise<SimLine[]> {
  const lines: SimLine[] = [];
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(`expected {"ready":true}, found end of output after ${lines.length} lines`);
    }
    buffered += value;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) !== -1) {
      const parsed = JSON.parse(buffered.slice(0, nl)) as SimLine & { ready?: boolean };
      buffered = buffered.slice(nl + 1);
      if (parsed.ready === true) return lines;
      lines.push(parsed);
    }
  }
}
