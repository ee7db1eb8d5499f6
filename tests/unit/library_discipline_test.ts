import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  BANNED_WEBSOCKET_PACKAGES,
  bannedWebSocketPackage,
  isOnHotPath,
  isUnderSource,
  libraryDiscipline,
  RAW_JSON_MESSAGE,
  WEBSOCKET_MESSAGE,
} from "../../src/lint/mod.ts";

const WEBSOCKET_RULE = "switchyard/no-third-party-websocket";
const RAW_JSON_RULE = "switchyard/no-raw-json";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PROJECT_CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../fixtures/lint/", import.meta.url));

// runPlugin's file name drives the rules' path checks, so each case names its file.
const SOURCE_FILE = "/work/main/src/server/upstream.ts";
const HOT_PATH_FILE = "/work/main/src/adapter/binance/depth.ts";

function lint(fileName: string, source: string): Deno.lint.Diagnostic[] {
  return Deno.lint.runPlugin(libraryDiscipline, fileName, source);
}

function assertFlagged(
  fileName: string,
  source: string,
  expected: { id: string; message: string; count?: number },
): Deno.lint.Diagnostic[] {
  const diagnostics = lint(fileName, source);
  assert.equal(
    diagnostics.length,
    expected.count ?? 1,
    `expected ${expected.count ?? 1} diagnostic(s) for ${JSON.stringify(source)} in ${fileName}, ` +
      `found ${JSON.stringify(diagnostics)}`,
  );
  for (const diagnostic of diagnostics) {
    assert.equal(diagnostic.id, expected.id);
    assert.equal(diagnostic.message, expected.message);
  }
  return diagnostics;
}

function assertClean(fileName: string, source: string): void {
  const diagnostics = lint(fileName, source);
  assert.deepEqual(
    diagnostics,
    [],
    `expected no diagnostics for ${JSON.stringify(source)} in ${fileName}`,
  );
}

function assertWebSocketFlagged(fileName: string, source: string): Deno.lint.Diagnostic[] {
  return assertFlagged(fileName, source, { id: WEBSOCKET_RULE, message: WEBSOCKET_MESSAGE });
}

function assertRawJsonFlagged(fileName: string, source: string, count = 1): void {
  assertFlagged(fileName, source, { id: RAW_JSON_RULE, message: RAW_JSON_MESSAGE, count });
}

interface LintRun {
  code: number;
  output: string;
}

async function runDenoLint(cwd: string, args: string[]): Promise<LintRun> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["lint", ...args],
    cwd,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

const BANNED_IMPORT_SOURCES: readonly string[] = [
  `import WebSocket from "npm:ws";`,
  `import WebSocket from "npm:ws@8.18.0";`,
  `import { WebSocket } from "ws";`,
  `import { WebSocketServer } from "ws@8";`,
  `import * as ws from "ws/lib/websocket.js";`,
  `import { Sender } from "npm:ws@8.18.0/lib/sender.js";`,
  `import "npm:/ws@^8";`,
  `import type { WebSocket } from "npm:ws@8";`,
  `import WS from "isomorphic-ws";`,
  `import WS from "npm:isomorphic-ws@5.0.0";`,
  `import { w3cwebsocket } from "websocket";`,
  `import { w3cwebsocket } from "npm:websocket@1.0.35";`,
  `import { io } from "socket.io-client";`,
  `import { io } from "npm:socket.io-client@4.8.1";`,
  `import ReconnectingWebSocket from "reconnecting-websocket";`,
  `import ReconnectingWebSocket from "npm:reconnecting-websocket@4.4.0/dist/index.js";`,
  `import WebSocket from "https://esm.sh/ws@8.18.0";`,
  `import WebSocket from "https://cdn.jsdelivr.net/npm/ws@8/+esm";`,
  `const ws = await import("npm:ws@8.18.0");`,
  `const ws = await import("isomorphic-ws");`,
  "const ws = await import(`ws`);",
  `export { WebSocket } from "ws";`,
  `export * from "npm:isomorphic-ws";`,
  `export * as ws from "ws";`,
  `export type { WebSocket } from "npm:ws@8.18.0";`,
  `const WebSocket = require("ws");`,
  `const { io } = require("socket.io-client");`,
  `const WebSocket = require("npm:ws@8.18.0");`,
  `const WebSocket = module.require("ws");`,
  `const WebSocket = createRequire(import.meta.url)("ws");`,
  `import ws = require("ws");`,
  `type Socket = import("ws").WebSocket;`,
];

Deno.test("no-third-party-websocket flags every import form of a banned library under src/", async (t) => {
  for (const source of BANNED_IMPORT_SOURCES) {
    await t.step(source, () => {
      assertWebSocketFlagged(SOURCE_FILE, source);
      assertWebSocketFlagged(HOT_PATH_FILE, source);
      assertWebSocketFlagged("src/main_loop.ts", source);
    });
  }
});

Deno.test("no-third-party-websocket flags each package on the ban list", () => {
  assert.ok(BANNED_WEBSOCKET_PACKAGES.size >= 6);
  for (const name of BANNED_WEBSOCKET_PACKAGES) {
    assertWebSocketFlagged(SOURCE_FILE, `import x from "${name}";`);
    assertWebSocketFlagged(SOURCE_FILE, `import x from "npm:${name}@1.2.3/sub/path.js";`);
  }
});

Deno.test("no-third-party-websocket points at the specifier and names it in the hint", () => {
  const source = `import { WebSocket } from "npm:ws@8.18.0";\nexport { WebSocket };\n`;
  const [diagnostic] = assertWebSocketFlagged(SOURCE_FILE, source);
  assert.equal(source.slice(...diagnostic.range), `"npm:ws@8.18.0"`);
  assert.ok(diagnostic.hint?.includes("npm:ws@8.18.0"), `hint was ${diagnostic.hint}`);
  assert.ok(diagnostic.hint?.includes(`"ws"`), `hint was ${diagnostic.hint}`);
});

Deno.test("no-third-party-websocket reports each banned import separately", () => {
  const source = [
    `import WebSocket from "npm:ws@8.18.0";`,
    `import { io } from "socket.io-client";`,
    `const lazy = await import("isomorphic-ws");`,
  ].join("\n");
  assertFlagged(SOURCE_FILE, source, { id: WEBSOCKET_RULE, message: WEBSOCKET_MESSAGE, count: 3 });
});

Deno.test("no-third-party-websocket accepts Deno's WebSocket and unrelated modules", async (t) => {
  const approved: readonly string[] = [
    `const socket = new WebSocket("wss://stream.example.com/ws");`,
    `declare const request: Request;\nconst { socket, response } = Deno.upgradeWebSocket(request);`,
    `import { decode } from "../codec/mod.ts";`,
    `import { WsFrame } from "../schema/ws_frame.ts";`,
    `import { ws } from "./ws.ts";`,
    `import ws from "/abs/ws/mod.ts";`,
    `import assert from "node:assert/strict";`,
    `import fc from "fast-check";`,
    `import simdjson from "npm:simdjson@0.9.2";`,
    `import wsl from "npm:wsl@1.0.0";`,
    `import wsx from "wsx";`,
    `import scoped from "@example/ws";`,
    `import thing from "https://example.com/ws@8.18.0";`,
    `const note = "ws";`,
    `const note = "npm:ws@8.18.0 is banned, use the built-in WebSocket";`,
    'const note = `import ws from "ws"`;',
    `// import WebSocket from "npm:ws";`,
    `declare const name: string;\nconst loaded = await import(name);`,
    `declare function requires(s: string): void;\nrequires("ws");`,
    `declare const loader: { load(s: string): void };\nloader.load("ws");`,
  ];
  for (const source of approved) {
    await t.step(source, () => assertClean(SOURCE_FILE, source));
  }
});

Deno.test("no-third-party-websocket applies only to files under src/", async (t) => {
  const source = `import WebSocket from "npm:ws@8.18.0";\nconst ws = require("ws");`;
  const outside: readonly string[] = [
    "/work/main/tests/integration/ws_interop_test.ts",
    "/work/main/bench/ws_bench.ts",
    "/work/main/main.ts",
    "/work/main/src.ts",
    "/work/main/src-old/adapter/feed.ts",
    "/work/main/tools/src",
    "tests/unit/feed_test.ts",
    "feed.ts",
  ];
  for (const fileName of outside) {
    await t.step(`outside: ${fileName}`, () => assertClean(fileName, source));
  }
  const inside: readonly string[] = [
    "/work/main/src/server/upstream.ts",
    "src/feed.ts",
    "./src/sim/provider.ts",
    "C:\\work\\main\\src\\server\\upstream.ts",
    "file:///work/main/src/server/upstream.ts",
    "/work/main/tests/../src/server/upstream.ts",
  ];
  for (const fileName of inside) {
    await t.step(`inside: ${fileName}`, () => {
      assertFlagged(fileName, source, { id: WEBSOCKET_RULE, message: WEBSOCKET_MESSAGE, count: 2 });
    });
  }
});

const BANNED_JSON_SOURCES: ReadonlyArray<readonly [source: string, count: number]> = [
  [`declare const text: string;\nJSON.parse(text);`, 1],
  [`JSON.stringify({ a: 1 });`, 1],
  [`declare const text: string;\nconst depth = JSON.parse(text) as { bids: string[] };`, 1],
  [`declare const text: string;\nglobalThis.JSON.parse(text);`, 1],
  [`globalThis.JSON.stringify(1);`, 1],
  [`declare const text: string;\nJSON["parse"](text);`, 1],
  ["JSON[`stringify`](1);", 1],
  [`declare const text: string;\nJSON?.parse(text);`, 1],
  [`(JSON as JSON).stringify(1);`, 1],
  [`declare const lines: string[];\nlines.map(JSON.parse);`, 1],
  [`JSON.stringify.call(null, 1);`, 1],
  [`const parseFrame = JSON.parse;`, 1],
  [`const { parse } = JSON;`, 1],
  [`const { parse: decodeRaw, stringify } = JSON;`, 2],
  [`const { stringify } = globalThis.JSON;`, 1],
  [`const { JSON: { parse } } = globalThis;`, 1],
  [`let parse: (text: string) => unknown;\n({ parse } = JSON);`, 1],
  [`const a = JSON.parse("1");\nconst b = JSON.stringify(a);`, 2],
];

Deno.test("no-raw-json flags JSON.parse and JSON.stringify on the hot path", async (t) => {
  const hotPathFiles: readonly string[] = [
    HOT_PATH_FILE,
    "/work/main/src/adapter/shared/frame_reader.ts",
    "/work/main/src/conductor/merge_window.ts",
    "/work/main/src/dispatcher/fan_out.ts",
    "src/dispatcher/routing/table.ts",
    "src\\conductor\\passthrough.ts",
    "file:///work/main/src/adapter/kraken/book.ts",
  ];
  for (const [source, count] of BANNED_JSON_SOURCES) {
    await t.step(source, () => {
      for (const fileName of hotPathFiles) assertRawJsonFlagged(fileName, source, count);
    });
  }
});

Deno.test("no-raw-json points at the member access and names it in the hint", () => {
  const source = `declare const text: string;\nexport const frame = JSON.parse(text);\n`;
  const diagnostics = lint(HOT_PATH_FILE, source);
  assert.equal(diagnostics.length, 1);
  const [diagnostic] = diagnostics;
  assert.equal(diagnostic.id, RAW_JSON_RULE);
  assert.equal(diagnostic.message, RAW_JSON_MESSAGE);
  assert.equal(source.slice(...diagnostic.range), "JSON.parse");
  assert.ok(diagnostic.hint?.includes("JSON.parse"), `hint was ${diagnostic.hint}`);
});

Deno.test("no-raw-json accepts the codec and look-alikes on the hot path", async (t) => {
  const approved: readonly string[] = [
    `import { decode } from "../../codec/mod.ts";\ndeclare const text: string;\ndecode(text);`,
    `declare const codec: { JSON: { parse(s: string): unknown } };\ncodec.JSON.parse("1");`,
    `declare const myJson: { parse(s: string): unknown };\nmyJson.parse("1");`,
    `declare const codec: { parse(s: string): unknown };\nconst { parse } = codec;`,
    `const note = "JSON.parse is banned here";`,
    `// JSON.parse(text) is what src/codec replaces`,
    `type Parse = typeof JSON.parse;`,
    `declare const value: { stringify(): string };\nvalue.stringify();`,
    `const { JSON: json } = { JSON: 1 };`,
  ];
  for (const source of approved) {
    await t.step(source, () => assertClean(HOT_PATH_FILE, source));
  }
});

Deno.test("no-raw-json applies only to src/adapter, src/conductor and src/dispatcher", async (t) => {
  const source = `const a = JSON.parse("1");\nconst b = JSON.stringify(a);`;
  const outside: readonly string[] = [
    "/work/main/src/codec/json_engine.ts",
    "/work/main/src/server/handshake.ts",
    "/work/main/src/config/load.ts",
    "/work/main/src/adapter.ts",
    "/work/main/src/adapters/feed.ts",
    "/work/main/src/sim/adapter/feed.ts",
    "/work/main/tests/unit/adapter/feed_test.ts",
    "/work/main/adapter/feed.ts",
    "/work/main/bench/decode_bench.ts",
    "/work/main/src/adapter/../codec/json_engine.ts",
    "main.ts",
  ];
  for (const fileName of outside) {
    await t.step(`outside: ${fileName}`, () => assertClean(fileName, source));
  }
});

Deno.test("both rules report together in one hot-path file", () => {
  const source = `import WebSocket from "npm:ws@8.18.0";\nconst frame = JSON.parse("{}");\n` +
    `export { frame, WebSocket };\n`;
  const diagnostics = lint(HOT_PATH_FILE, source);
  const seen = diagnostics.map((diagnostic) => `${diagnostic.id}: ${diagnostic.message}`).sort();
  assert.deepEqual(seen, [
    `${RAW_JSON_RULE}: ${RAW_JSON_MESSAGE}`,
    `${WEBSOCKET_RULE}: ${WEBSOCKET_MESSAGE}`,
  ]);
});

Deno.test("bannedWebSocketPackage resolves specifiers to package names", () => {
  assert.equal(bannedWebSocketPackage("ws"), "ws");
  assert.equal(bannedWebSocketPackage("npm:ws@8.18.0/lib/sender.js"), "ws");
  assert.equal(bannedWebSocketPackage("npm:/socket.io-client@4"), "socket.io-client");
  assert.equal(bannedWebSocketPackage("  isomorphic-ws  "), "isomorphic-ws");
  assert.equal(
    bannedWebSocketPackage("https://esm.sh/reconnecting-websocket@4"),
    "reconnecting-websocket",
  );
  assert.equal(bannedWebSocketPackage("wsl"), null);
  assert.equal(bannedWebSocketPackage("@scope/ws@1.0.0"), null);
  assert.equal(bannedWebSocketPackage("./ws.ts"), null);
  assert.equal(bannedWebSocketPackage("node:ws"), null);
  assert.equal(bannedWebSocketPackage("jsr:@std/ws"), null);
  assert.equal(bannedWebSocketPackage("npm:"), null);
  assert.equal(bannedWebSocketPackage(""), null);
});

Deno.test("path predicates normalise separators, URLs and dot segments", () => {
  assert.equal(isUnderSource("src/x.ts"), true);
  assert.equal(isUnderSource("C:\\work\\main\\src\\x.ts"), true);
  assert.equal(isUnderSource("file:///work/main/src/x.ts"), true);
  assert.equal(isUnderSource("file:///work/my%20main/src/x.ts"), true);
  assert.equal(isUnderSource("/work/main/src"), false);
  assert.equal(isUnderSource("/work/main/src/../tests/x_test.ts"), false);
  assert.equal(isOnHotPath("/work/main/src/adapter/x.ts"), true);
  assert.equal(isOnHotPath("/work/main/src/conductor/deep/er/x.ts"), true);
  assert.equal(isOnHotPath("/work/main/src/dispatcher/x.ts"), true);
  assert.equal(isOnHotPath("/work/main/src/x/../dispatcher/x.ts"), true);
  assert.equal(isOnHotPath("/work/main/src/adapter"), false);
  assert.equal(isOnHotPath("/work/main/src/codec/x.ts"), false);
  assert.equal(isOnHotPath("/work/main/lib/adapter/x.ts"), false);
});

Deno.test("deno lint fails the bad fixture project with both messages", async () => {
  const run = await runDenoLint(`${FIXTURES}bad`, []);
  assert.notEqual(run.code, 0, run.output);
  assert.ok(run.output.includes(WEBSOCKET_MESSAGE), run.output);
  assert.ok(run.output.includes(RAW_JSON_MESSAGE), run.output);
  assert.ok(run.output.includes(`error[${WEBSOCKET_RULE}]: ${WEBSOCKET_MESSAGE}`), run.output);
  assert.ok(run.output.includes(`error[${RAW_JSON_RULE}]: ${RAW_JSON_MESSAGE}`), run.output);
});

Deno.test("deno lint --json lists each violation of the bad fixture project", async () => {
  const run = await runDenoLint(`${FIXTURES}bad`, ["--json"]);
  assert.notEqual(run.code, 0, run.output);
  const report = JSON.parse(run.output.slice(run.output.indexOf("{"))) as {
    diagnostics: { filename: string; code: string; message: string }[];
  };
  const seen = report.diagnostics.filter((diagnostic) => diagnostic.code.startsWith("switchyard/"))
    .map((diagnostic) => {
      const file = diagnostic.filename.slice(diagnostic.filename.indexOf("/src/") + 1);
      return `${file} ${diagnostic.code} ${diagnostic.message}`;
    }).sort();
  assert.deepEqual(seen, [
    `src/adapter/feed.ts ${RAW_JSON_RULE} ${RAW_JSON_MESSAGE}`,
    `src/adapter/feed.ts ${WEBSOCKET_RULE} ${WEBSOCKET_MESSAGE}`,
    `src/dispatcher/fan_out.ts ${RAW_JSON_RULE} ${RAW_JSON_MESSAGE}`,
    `src/dispatcher/fan_out.ts ${WEBSOCKET_RULE} ${WEBSOCKET_MESSAGE}`,
  ]);
});

Deno.test("deno lint passes the good fixture project", async () => {
  const run = await runDenoLint(`${FIXTURES}good`, []);
  assert.equal(run.code, 0, run.output);
  assert.ok(!run.output.includes("switchyard/"), run.output);
});

Deno.test("the project's deno.json loads the plugin and lints the plugin clean", async () => {
  const run = await runDenoLint(PROJECT_ROOT, ["src/lint/"]);
  assert.equal(run.code, 0, run.output);
});

Deno.test("the project's deno.json rejects a static npm:ws import and raw JSON", async () => {
  // Written at test time: a static `npm:ws` import under tests/ would make `deno check tests/`
  // download ws into the root lock file.
  const root = await Deno.makeTempDir({ prefix: "library_discipline_" });
  try {
    await Deno.mkdir(`${root}/src/adapter`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/src/adapter/feed.ts`,
      `import { WebSocket } from "npm:ws@8.18.0";\n` +
        `export const frame: unknown = JSON.parse("{}");\n` +
        `export const socket = new WebSocket("ws://127.0.0.1:1");\n`,
    );
    const run = await runDenoLint(root, ["--config", PROJECT_CONFIG, "src/"]);
    assert.notEqual(run.code, 0, run.output);
    assert.ok(run.output.includes(`error[${WEBSOCKET_RULE}]: ${WEBSOCKET_MESSAGE}`), run.output);
    assert.ok(run.output.includes(`error[${RAW_JSON_RULE}]: ${RAW_JSON_MESSAGE}`), run.output);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
