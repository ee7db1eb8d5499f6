/**
 * CPU time of a child process from Linux `/proc/<pid>/stat`, read through `cat` (Deno grants
 * `/proc/<pid>` only with `--allow-all`, and the bench may already run programs).
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ; 100 on every Linux we run on). */
const PROC_TICKS_PER_SECOND = 100;

/** User + system CPU time of process `pid` so far, ms (0 when unreadable). */
export async function procCpuMs(pid: number): Promise<number> {
  try {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${pid}/stat`],
      stdout: "piped",
      stderr: "null",
    }).output();
    const stat = new TextDecoder().decode(out.stdout);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / PROC_TICKS_PER_SECOND : 0;
  } catch {
    return 0;
  }
}
