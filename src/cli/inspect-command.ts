// `roam inspect FILE`: what is inside a checkpoint file, read here (no host needed).

import type { KernelState } from "../kernel/kernel.js";
import { decodeSnapshot, SnapshotError } from "../snapshot/snapshot.js";
import type { CommandSpec, Parsed } from "./args.js";
import { CliError } from "./failure.js";
import { readInputFile } from "./read-input.js";
import { EXIT_USAGE } from "./usage-error.js";

export const INSPECT_SPEC: CommandSpec = {
  name: "inspect", usage: "FILE [options]", positionals: ["FILE"], summary: "show what is inside a checkpoint file",
  about: "The guest, its hart, RAM, console, open files and memory map, as saved.",
  options: [{ name: "json", help: "print it as JSON" }],
};

export async function inspectCommand(args: Parsed): Promise<number> {
  const [file] = args.positionals;
  let snapshot;
  try {
    snapshot = decodeSnapshot(readInputFile(file));
  } catch (error) {
    if (error instanceof SnapshotError) throw new CliError(file, error.message, EXIT_USAGE);
    throw error;
  }
  const hart = new DataView(snapshot.hart.buffer, snapshot.hart.byteOffset, snapshot.hart.byteLength);
  const process_ = snapshot.process;
  const g0 = snapshot.guest;
  const first = process_?.tasks.find((t) => t.pid === process_.firstPid);
  const summary = {
    guest: snapshot.guest,
    pc: "0x" + hart.getUint32(132, true).toString(16),
    privilege: ["U", "S", "?", "M"][hart.getUint32(136, true)] ?? "?",
    instructionsRetired: hart.getBigUint64(168, true).toString(),
    ramPages: snapshot.ram.indices.length,
    ramBytesStored: snapshot.ram.data.length,
    console: { outputOffset: snapshot.console.outputOffset, pendingInput: snapshot.console.pendingInput.length, inputEnded: snapshot.console.inputEnded },
    processes: process_?.tasks.map((t) => ({ pid: t.pid, ppid: t.ppid, status: t.status, name: t.name || g0.program, pendingSleepUntilNs: t.sleepDeadlineNs })),
    openFiles: process_ && firstFiles(process_),
    regions: first?.addressSpace?.regions.map((r) => ({ start: "0x" + r.start.toString(16), end: "0x" + r.end.toString(16), prot: r.prot, kind: r.kind })),
    guestClockNs: process_?.guestClockNs,
    pendingSleepUntilNs: first?.sleepDeadlineNs,
  };
  if (args.flag("json")) { process.stdout.write(JSON.stringify(summary, null, 2) + "\n"); return 0; }
  const g = snapshot.guest;
  const lines = [
    `guest ${g.id}: ${g.kind} mode, ${g.argv.join(" ")}`,
    `started ${g.createdAt}; snapshot taken on ${g.host}`,
    `hart: pc ${summary.pc}, ${summary.privilege}-mode, ${summary.instructionsRetired} instructions retired`,
    `RAM: ${g.ramBytes >> 20} MiB, ${summary.ramPages} non-zero pages stored`,
    `console: ${summary.console.outputOffset} bytes of output so far, ${summary.console.pendingInput} bytes of input waiting${summary.console.inputEnded ? ", input ended" : ""}`,
  ];
  if (summary.processes && summary.processes.length > 1) for (const p of summary.processes) lines.push(`process ${p.pid} (parent ${p.ppid}): ${p.name}, ${p.status}`);
  if (summary.openFiles) for (const f of summary.openFiles) lines.push(`fd ${f.fd}: ${f.kind} ${f.path} at ${f.position}`);
  if (summary.regions) lines.push(`memory map: ${summary.regions.map((r) => `${r.kind} ${r.start}-${r.end}`).join(", ")}`);
  if (summary.pendingSleepUntilNs) lines.push(`blocked in a sleep until guest time ${summary.pendingSleepUntilNs} ns`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}

/** The first process's descriptors, with what each refers to. */
function firstFiles(state: KernelState): Array<{ fd: number; path: string; kind: string; position: number; flags: number }> {
  const first = state.tasks.find((t) => t.pid === state.firstPid);
  const byId = new Map(state.openFiles.files.map((f) => [f.id, f]));
  return (first?.files?.fds ?? []).flatMap(([fd, id]) => {
    const f = byId.get(id);
    return f ? [{ fd, path: f.path, kind: f.kind, position: f.position, flags: f.flags }] : [];
  });
}
