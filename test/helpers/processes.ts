import { readdirSync, readFileSync } from "node:fs";

/** Live child processes of this test process (Linux /proc). */
export function children(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name "(...)": state ppid ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === process.pid && state !== "Z") out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}
