/**
 * Builds the N-API addon of `npm:simdjson` (`deno install` never runs node-gyp for it).
 *
 * Idempotent: does nothing when `node_modules/simdjson/build/Release/simdjson.node` exists.
 * Needs python3, make, g++ and a directory holding Node's C headers (`include/node/node_api.h`);
 * the headers of the machine's Node.js are found through `node` on PATH, `/usr` or `/usr/local`,
 * or `SWITCHYARD_NODE_HEADERS`. node-gyp itself comes from the npm registry.
 *
 * Without the addon the gateway still runs on V8's JSON engine and says so loudly at startup;
 * this script therefore exits 0 with a warning when the build is impossible, unless
 * `--strict` is given (CI uses it so a missing addon can never ship unnoticed).
 *
 * @module
 */

const ADDON_DIR = "node_modules/simdjson";
const ADDON_FILE = `${ADDON_DIR}/build/Release/simdjson.node`;
const NODE_GYP = "npm:node-gyp@12.4.0";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function nodeHeaderCandidates(): Promise<string[]> {
  const out: string[] = [];
  const env = Deno.env.get("SWITCHYARD_NODE_HEADERS");
  if (env) out.push(env);
  try {
    const which = await new Deno.Command("node", {
      args: ["-p", "require('path').dirname(require('path').dirname(process.execPath))"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (which.success) out.push(new TextDecoder().decode(which.stdout).trim());
  } catch {
    // no node on PATH: fall through to the usual prefixes
  }
  out.push("/usr", "/usr/local");
  return out;
}

async function main(): Promise<number> {
  const strict = Deno.args.includes("--strict");
  if (exists(ADDON_FILE)) {
    console.error(`simdjson addon present: ${ADDON_FILE}`);
    return 0;
  }
  if (!exists(ADDON_DIR)) {
    console.error(`simdjson package missing: expected ${ADDON_DIR}; run 'deno install' first`);
    return strict ? 1 : 0;
  }
  const candidates = await nodeHeaderCandidates();
  const nodedir = candidates.find((d) => exists(`${d}/include/node/node_api.h`));
  if (!nodedir) {
    console.error(
      `WARNING simdjson addon not built: no Node headers (include/node/node_api.h) under ` +
        `${candidates.join(", ")}; set SWITCHYARD_NODE_HEADERS. The gateway will use V8 JSON.`,
    );
    return strict ? 1 : 0;
  }
  console.error(`building simdjson addon with node-gyp (headers from ${nodedir}) ...`);
  const deno = Deno.execPath();
  const build = await new Deno.Command(deno, {
    args: ["run", "-A", NODE_GYP, "rebuild", `--directory=${ADDON_DIR}`, `--nodedir=${nodedir}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!build.success || !exists(ADDON_FILE)) {
    const tail = new TextDecoder().decode(build.stderr).split("\n").slice(-15).join("\n");
    console.error(`WARNING simdjson addon build failed (exit ${build.code}):\n${tail}`);
    console.error("The gateway will run on V8 JSON; install python3, make and g++ and retry.");
    return strict ? 1 : 0;
  }
  console.error(`simdjson addon built: ${ADDON_FILE}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
