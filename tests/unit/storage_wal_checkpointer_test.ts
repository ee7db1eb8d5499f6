/** The background WAL checkpointer copies committed pages into the database file by itself. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openDurableDatabase, startWalCheckpointer } from "../../src/storage/mod.ts";

Deno.test("a background checkpointer backfills the WAL while the writer only commits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "wal_checkpointer_" });
  const path = join(dir, "w.db");
  const db = openDurableDatabase(path);
  const checkpointer = startWalCheckpointer(path, { intervalMs: 20 });
  try {
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    for (let n = 0; n < 200; n++) insert.run("x".repeat(500));
    const sizeBefore = (await Deno.stat(path)).size;
    // The writer never checkpoints this few pages itself (auto-checkpoint is far above).
    const deadline = Date.now() + 5000;
    while ((await Deno.stat(path)).size <= sizeBefore && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(
      (await Deno.stat(path)).size > sizeBefore,
      "expected the database file to grow by a checkpoint, found it unchanged",
    );
    const row = db.prepare("SELECT count(*) AS n FROM t").get() as { n: number };
    assert.equal(row.n, 200);
  } finally {
    checkpointer.close();
    checkpointer.close();
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(
    () => startWalCheckpointer(path, { intervalMs: 0 }),
    /expected a checkpoint interval > 0 ms, found 0/,
  );
});
