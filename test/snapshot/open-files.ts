// A process's open files in a snapshot's kernel state (v2): its descriptor
// table (tasks[i].files.fds: [fd, description id, close-on-exec]) names open
// file descriptions (openFiles.files) by id. Works on a checked KernelState and
// on a decoded payload a test damages alike; what it returns is the object in
// the state, so a change to it changes the snapshot.

import type { OpenFile } from "../../src/kernel/files.js";

/** The parts of a kernel state these helpers read, typed loosely enough for a damaged payload too. */
interface Kernelish {
  openFiles: { nextId: number; files: Array<Record<string, any>> };
  tasks: Array<{ pid: number; files: { fds: Array<[number, number, boolean]> } | null }>;
}

function taskOf(state: Kernelish, pid?: number) {
  const task = pid === undefined ? state.tasks[0] : state.tasks.find((t) => t.pid === pid);
  if (!task?.files) throw new Error(`no process ${pid ?? "(first)"} with a descriptor table in the snapshot`);
  return task as { pid: number; files: { fds: Array<[number, number, boolean]> } };
}

/** Where fd `fd` of process `pid` (default: the first task) sits: its entry in fds, and its description's index in openFiles.files. */
export function openFileIndex(state: Kernelish, fd: number, pid?: number): { fdIndex: number; fileIndex: number } {
  const fds = taskOf(state, pid).files.fds;
  const fdIndex = fds.findIndex(([n]) => n === fd);
  if (fdIndex < 0) throw new Error(`fd ${fd} is not open in the snapshot`);
  const fileIndex = state.openFiles.files.findIndex((f) => f.id === fds[fdIndex][1]);
  if (fileIndex < 0) throw new Error(`fd ${fd} names open file ${fds[fdIndex][1]}, which the snapshot does not have`);
  return { fdIndex, fileIndex };
}

/** The open file description behind fd `fd` of process `pid` (default: the first task). */
export function openFileAt(state: Kernelish, fd: number, pid?: number): OpenFile {
  return state.openFiles.files[openFileIndex(state, fd, pid).fileIndex] as OpenFile;
}

/** Every fd of process `pid` (default: the first task) with its description, in fd order as the table lists them. */
export function openFilesOf(state: Kernelish, pid?: number): Array<[number, OpenFile]> {
  return taskOf(state, pid).files.fds.map(([fd]) => [fd, openFileAt(state, fd, pid)]);
}

/** Opens `file` at fd `fd` of process `pid` (default: the first task) as a new description; returns its id. */
export function addOpenFile(state: Kernelish, fd: number, file: Omit<OpenFile, "id">, pid?: number): number {
  const id = state.openFiles.nextId++;
  state.openFiles.files.push({ ...file, id });
  taskOf(state, pid).files.fds.push([fd, id, false]);
  return id;
}
