// What a guest retired while it ran flat out, and how long that took: the
// host's speed as its guests feel it (src/cluster/load-vector.ts). Only time
// spent running instructions counts — a process slice that spent its whole
// budget, a machine's batch — never time a guest waited (I/O, a timer, the
// --capacity cap): an I/O-bound guest must not make its host look slow. The
// time is elapsed time inside the slice, not the process's CPU time, so a host
// whose cores are shared with other work (another host on the same machine)
// measures what it actually gets.

export class BusyTime {
  instructions = 0;
  ms = 0;

  add(instructions: number, ms: number): void {
    this.instructions += instructions;
    this.ms += ms;
  }
}
