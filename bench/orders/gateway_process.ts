/**
 * The gateway under test as a child process: `main.ts` with its embedded simulators (or pointed
 * at simulators in another process with `--endpoint` flags), a trading
 * token for the bench's consumer and an admin token (environment, as an operator would), a free
 * port, and the journal where the run says (`:memory:` or a directory). Reads its log (JSON
 * lines) for the listening address, waits until every book is LIVE, enables trading, samples the
 * process's CPU time from `/proc`, and stops it with SIGTERM.
 *
 * @module
 */

import { procCpuMs } from "./proc_cpu.ts";

/** Options of {@linkcode GatewayProcess.start}. */
export interface GatewayProcessOptions {
  /** Project root (where `main.ts` and `deno.json` are). */
  cwd: string;
  /** `--data-dir`: `:memory:` or a directory the child may write. */
  dataDir: string;
  /** `--sim-rate`: market events per second of each embedded simulator. */
  simRate: number;
  /**
   * `--endpoint <provider>.<role>=<url>` flags (pairs) of simulators in another process; when
   * given, the gateway starts no embedded simulator (and `simRate` is not passed).
   */
  endpointArgs?: readonly string[];
  /** Extra `deno run` flags before `main.ts` (e.g. `--cpu-prof --cpu-prof-dir=<dir>`). */
  denoArgs?: readonly string[];
  /** The bench consumer's id and trading token, and the admin token. */
  traderId: string;
  traderToken: string;
  adminToken: string;
  /**
   * `--pool-capacity OrderRequest=<n>`: order requests in flight (submitted, not yet answered
   * by the exchange); undefined keeps the gateway's default.
   */
  orderRequestCapacity?: number;
  /** Books that must be LIVE before the run starts (`provider:symbol`). */
  booksRequired: readonly string[];
  /** How long start-up may take, ms. */
  startTimeoutMs: number;
}

/** Log lines kept for error messages. */
const LOG_LINES_MAX = 200;

/** A running gateway child. */
export class GatewayProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The child's pid (the Deno process itself: no shell in between). */
  readonly pid: number;
  /** Its latest log lines (stdout and stderr). */
  readonly logLines: string[];
  /** Warning-or-worse log entries, counted by `level logger: message` (message cut short). */
  readonly problems: Map<string, number>;
  readonly #process: Deno.ChildProcess;
  readonly #readers: Promise<void>[];

  private constructor(
    process: Deno.ChildProcess,
    baseUrl: string,
    logLines: string[],
    problems: Map<string, number>,
    readers: Promise<void>[],
  ) {
    this.#process = process;
    this.baseUrl = baseUrl;
    this.pid = process.pid;
    this.logLines = logLines;
    this.problems = problems;
    this.#readers = readers;
  }

  /** Spawns the gateway, waits for its address and LIVE books, and enables trading. */
  static async start(opts: GatewayProcessOptions): Promise<GatewayProcess> {
    const writable = opts.dataDir === ":memory:" ? [] : [`--allow-write=${opts.dataDir}`];
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net=127.0.0.1,localhost",
        "--allow-read",
        ...writable,
        "--allow-env",
        "--allow-ffi=./node_modules",
        ...(opts.denoArgs ?? []),
        "main.ts",
        "--port",
        "0",
        "--view",
        "off",
        "--data-dir",
        opts.dataDir,
        ...(opts.endpointArgs === undefined
          ? ["--sim-rate", String(opts.simRate)]
          : opts.endpointArgs),
        ...(opts.orderRequestCapacity === undefined
          ? []
          : ["--pool-capacity", `OrderRequest=${opts.orderRequestCapacity}`]),
      ],
      cwd: opts.cwd,
      env: {
        NO_COLOR: "1",
        SWITCHYARD_TRADER_TOKENS: `${opts.traderId}:${opts.traderToken}`,
        SWITCHYARD_ADMIN_TOKEN: opts.adminToken,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const logLines: string[] = [];
    const problems = new Map<string, number>();
    const address = Promise.withResolvers<string>();
    const onLine = (line: string): void => {
      logLines.push(line);
      if (logLines.length > LOG_LINES_MAX) logLines.shift();
      countProblem(problems, line);
      if (!line.includes("listening on http://")) return;
      try {
        const entry = JSON.parse(line) as { host?: string; port?: number };
        if (typeof entry.port === "number") {
          address.resolve(`http://${entry.host ?? "127.0.0.1"}:${entry.port}`);
        }
      } catch {
        // Not a JSON line (text log format): the regex below still finds it.
        const m = /listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(line);
        if (m !== null) address.resolve(m[1]);
      }
    };
    const readers = [readLines(process.stdout, onLine), readLines(process.stderr, onLine)];
    void process.status.then((s) =>
      address.reject(new Error(`gateway exited with code ${s.code} before listening`))
    );
    const gateway = new GatewayProcess(process, "", logLines, problems, readers);
    let baseUrl: string;
    try {
      baseUrl = await withTimeout(address.promise, opts.startTimeoutMs, "a listening address");
    } catch (err) {
      await gateway.stop();
      throw new Error(`${(err as Error).message}; log:\n${logLines.slice(-20).join("\n")}`);
    }
    const started = new GatewayProcess(process, baseUrl, logLines, problems, readers);
    try {
      await started.#waitForBooks(opts.booksRequired, opts.startTimeoutMs);
      await started.#enableTrading(opts.traderId, opts.adminToken);
    } catch (err) {
      await started.stop();
      throw err;
    }
    return started;
  }

  /**
   * User + system CPU time of the child so far, ms (Linux `/proc`; 0 elsewhere). Read through
   * `cat`: Deno grants `/proc/<pid>` only with `--allow-all`, and the bench may already run
   * programs.
   */
  cpuMs(): Promise<number> {
    return procCpuMs(this.pid);
  }

  /** GET a JSON route of the gateway. */
  async getJson<T>(path: string, token?: string): Promise<T> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${this.baseUrl}${path}`, { headers });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`GET ${path}: expected 200, found ${response.status} ${text.slice(0, 300)}`);
    }
    return JSON.parse(text) as T;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; waits for the exit and the end of its output. */
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
    await Promise.all(this.#readers);
    return status;
  }

  async #waitForBooks(required: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let missing: string[] = [...required];
    while (performance.now() < deadline) {
      try {
        const { books } = await this.getJson<{ books: BookRow[] }>("/v1/books");
        const live = new Set(
          books.filter((b) => b.state === "LIVE").map((b) => `${b.provider}:${b.symbol}`),
        );
        missing = required.filter((k) => !live.has(k));
        if (missing.length === 0) return;
      } catch {
        // Not serving yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(
      `expected books ${missing.join(", ")} LIVE within ${timeoutMs} ms, found them not LIVE`,
    );
  }

  async #enableTrading(traderId: string, adminToken: string): Promise<void> {
    const response = await fetch(`${this.baseUrl}/v1/trading/${traderId}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ enabled: true }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `PUT /v1/trading/${traderId}: expected 200, found ${response.status} ${text}`,
      );
    }
  }
}

/** One row of `GET /v1/books`. */
export interface BookRow {
  provider: string;
  symbol: string;
  state: string;
  bestBid: string | null;
  bestAsk: string | null;
}

/** Levels counted as problems. */
const PROBLEM_LEVELS = new Set(["warning", "error", "fatal"]);
/** Characters of a message kept in a problem's key. */
const PROBLEM_MESSAGE_CHARS = 160;

function countProblem(problems: Map<string, number>, line: string): void {
  if (!line.startsWith("{")) return;
  try {
    const entry = JSON.parse(line) as { level?: string; logger?: string; msg?: string };
    if (!PROBLEM_LEVELS.has(entry.level ?? "")) return;
    const key = `${entry.level} ${entry.logger ?? ""}: ${
      (entry.msg ?? "").slice(0, PROBLEM_MESSAGE_CHARS)
    }`;
    problems.set(key, (problems.get(key) ?? 0) + 1);
  } catch {
    // Not a log entry.
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let end = buffered.indexOf("\n");
    while (end !== -1) {
      onLine(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf("\n");
    }
  }
  if (buffered !== "") onLine(buffered);
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`expected ${what} within ${timeoutMs} ms, found none`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
