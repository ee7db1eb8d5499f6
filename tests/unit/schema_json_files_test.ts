import assert from "node:assert/strict";
import fc from "fast-check";
import {
  isCanonicalSymbol,
  isClientOrderId,
  isConsumerId,
  isDecimalOrEmpty,
  isDecimalString,
  isKlineInterval,
  isMergeId,
  isPositiveDecimalString,
  isProviderName,
  messageFromWire,
} from "../../src/schema/mod.ts";
import {
  readSchema,
  SCHEMA_FILES,
  type SchemaDoc,
  type SchemaName,
  SchemaValidators,
} from "../support/schema_json_schema.ts";

Deno.test("JSON Schema files compile under strict Ajv draft 2020-12", () => {
  const validators = new SchemaValidators();
  for (const name of SCHEMA_FILES) {
    const doc = validators.docs.get(name)!;
    assert.strictEqual(doc.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.strictEqual(doc.$id, `urn:switchyard:schema:v1:${name}`);
    // Compiles on first use; strict mode throws on unknown keywords or loose types.
    validators.errors(name, {});
  }
});

Deno.test("JSON Schema files: a definition repeated in several files is the same everywhere", () => {
  const seen = new Map<string, { file: string; def: unknown }>();
  for (const name of SCHEMA_FILES) {
    const defs = (readSchema(name).$defs ?? {}) as Record<string, unknown>;
    for (const [key, def] of Object.entries(defs)) {
      const { description: _, ...shape } = def as Record<string, unknown>;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, { file: name, def: shape });
      else {assert.deepStrictEqual(
          shape,
          first.def,
          `$defs.${key}: ${name} differs from ${first.file}`,
        );}
    }
  }
  assert.ok(seen.size >= 8);
});

/** Finds the `pattern` of a definition or property anywhere in a schema document. */
function patternOf(doc: SchemaDoc, path: string[]): RegExp {
  let node: unknown = doc;
  for (const key of path) node = (node as Record<string, unknown>)[key];
  const pattern = (node as Record<string, unknown>).pattern;
  assert.strictEqual(typeof pattern, "string", path.join("."));
  // JSON Schema patterns are ECMA-262 regexes; Ajv compiles them with the "u" flag.
  return new RegExp(pattern as string, "u");
}

Deno.test("JSON Schema patterns accept exactly what the code accepts", () => {
  const event = readSchema("event");
  const control = readSchema("control");
  const exec = readSchema("exec_report");
  const merged = readSchema("merged");
  const pairs: [string, RegExp, (v: string) => boolean, fc.Arbitrary<string>][] = [
    [
      "decimal",
      patternOf(event, ["$defs", "decimal"]),
      isDecimalString,
      fc.stringMatching(/^[-0-9.e+ ]{1,8}$/),
    ],
    [
      "decimalOrEmpty",
      patternOf(event, ["$defs", "decimalOrEmpty"]),
      isDecimalOrEmpty,
      fc.stringMatching(/^[-0-9.]{0,8}$/),
    ],
    [
      "positiveDecimal",
      patternOf(control, ["$defs", "positiveDecimal"]),
      isPositiveDecimalString,
      fc.stringMatching(/^[-0-9.]{1,8}$/),
    ],
    [
      "symbol",
      patternOf(event, ["$defs", "symbol"]),
      isCanonicalSymbol,
      fc.stringMatching(/^[A-Za-z0-9/-]{1,12}$/),
    ],
    [
      "provider",
      patternOf(event, ["$defs", "provider"]),
      isProviderName,
      fc.stringMatching(/^[A-Za-z0-9_ -]{0,12}$/),
    ],
    [
      "clientOrderId",
      patternOf(control, ["$defs", "clientOrderId"]),
      isClientOrderId,
      fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9_.:# -]{0,40}$/),
        fc.stringMatching(/^[0-9a-fA-F-]{30,38}$/),
      ),
    ],
    [
      "consumer_id",
      patternOf(exec, ["properties", "consumer_id"]),
      isConsumerId,
      fc.stringMatching(/^[A-Za-z0-9._:@ -]{0,70}$/),
    ],
    [
      "merge_id",
      patternOf(merged, ["properties", "merge_id"]),
      isMergeId,
      fc.string({ maxLength: 70 }),
    ],
    [
      "interval",
      patternOf(event, ["allOf", "3", "then", "properties", "interval"]),
      isKlineInterval,
      fc.stringMatching(/^[0-9]{0,6}[smhdwMy]?$/),
    ],
  ];
  for (const [name, pattern, check, arb] of pairs) {
    fc.assert(
      fc.property(arb, (s) => {
        // maxLength 64 on decimals is a separate keyword; the generators stay below it.
        assert.strictEqual(pattern.test(s), check(s), `${name}: "${s}"`);
      }),
      { numRuns: 500 },
    );
  }
});

Deno.test("every complete example in docs/schema.md parses and validates", () => {
  const text = Deno.readTextFileSync(new URL("../../docs/schema.md", import.meta.url));
  const validators = new SchemaValidators();
  const schemaOf: Record<string, SchemaName> = {
    event: "event",
    merged: "merged",
    exec_report: "exec_report",
  };
  let checked = 0;
  for (const block of text.matchAll(/```json\n([\s\S]*?)```/g)) {
    // A block holds one or more messages, each starting at the beginning of a line.
    for (const chunk of block[1].split(/\n(?=\{)/)) {
      if (chunk.includes('"..."')) continue; // abbreviated example
      const value = JSON.parse(chunk) as { type: string };
      messageFromWire(value);
      validators.assertValid(schemaOf[value.type] ?? "control", value);
      checked++;
    }
  }
  assert.ok(checked >= 12, `only ${checked} examples checked`);
});
