// POSIX threads on roam, compared with qemu-riscv32 line for line: creation and
// join, mutexes under contention, condition variables, semaphores, barriers,
// thread-local storage, ids, per-thread signals, a process-directed signal taken
// by sigwait in the one thread that waits for it, timed waits, cancellation,
// fork from a thread, and how a process with threads ends (exit from a thread,
// pthread_exit from main, a fault in a thread).
//
//   threads                 all of the above
//   threads handoff         threads pass a token through a condition variable and
//                           wait for a signal: short, for freezing at every step
//   threads leader-exits    main ends with pthread_exit, its threads go on
//   threads exec-from-thread  a thread that is not the main one calls execve
//   threads robust          a robust mutex whose owner ends holding it
//   threads deadlock        two threads wait for each other's lock for ever
//   threads pingpong N      two threads hand a turn back and forth N times each
//   threads spawn N         N threads made and joined, 100 at a time
//   threads gated FILE      threads wait (in futex waits and a sleep) until FILE
//                           exists, then finish: for moving it while they wait
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

// ---- work in parallel, joined ----
static long sums[4];
static void *work(void *arg) {
  long id = (long)arg, s = 0;
  for (long i = 0; i < 200000; i++) s += i % (id + 2);
  sums[id] = s;
  return (void *)(id * 10);
}

// ---- a mutex under contention ----
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void *add(void *arg) {
  (void)arg;
  for (int i = 0; i < 20000; i++) {
    pthread_mutex_lock(&lock);
    long v = counter;
    if (i % 1000 == 0) sched_yield(); // hold the lock across a switch now and then
    counter = v + 1;
    pthread_mutex_unlock(&lock);
  }
  return 0;
}

// ---- a queue with condition variables ----
#define QSIZE 4
static int queue[QSIZE], head, tail, count_in_queue;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static long consumed_sum;
static void *producer(void *arg) {
  (void)arg;
  for (int i = 1; i <= 1000; i++) {
    pthread_mutex_lock(&lock);
    while (count_in_queue == QSIZE) pthread_cond_wait(&not_full, &lock);
    queue[tail] = i; tail = (tail + 1) % QSIZE; count_in_queue++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  return 0;
}
static void *consumer(void *arg) {
  long mine = 0;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (count_in_queue == 0) pthread_cond_wait(&not_empty, &lock);
    int v = queue[head]; head = (head + 1) % QSIZE; count_in_queue--;
    pthread_cond_broadcast(&not_full);
    if (v > 0) consumed_sum += v;
    pthread_mutex_unlock(&lock);
    if (v < 0) break;
    mine++;
  }
  *(long *)arg = mine;
  return 0;
}

// ---- thread-local storage and ids ----
static __thread int local = 7;
static pid_t main_pid, main_ppid;
static void *ids(void *arg) {
  local += (int)(long)arg;
  int same_pid = getpid() == main_pid, same_ppid = getppid() == main_ppid, own_tid = tid() != main_pid;
  return (void *)(long)(local * 1000 + same_pid * 100 + same_ppid * 10 + own_tid);
}

// ---- semaphores, detached threads, barriers ----
static sem_t done;
static void *detached(void *arg) { (void)arg; sem_post(&done); return 0; }
static pthread_barrier_t barrier;
static int arrived[3], seen_all[3];
static void *at_barrier(void *arg) {
  long id = (long)arg;
  arrived[id] = 1;
  int serial = pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD;
  seen_all[id] = arrived[0] + arrived[1] + arrived[2];
  return (void *)(long)serial;
}

// ---- signals: to one thread, to the process ----
static volatile pid_t handled_in;
static void on_usr1(int sig) { (void)sig; handled_in = tid(); }
static volatile int usr1_go;
static pid_t usr1_tid;
static void *wait_usr1(void *arg) {
  (void)arg;
  usr1_tid = tid();
  usr1_go = 1;
  while (handled_in == 0) sched_yield();
  return 0;
}
static void *sigwaiter(void *arg) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  int sig = 0;
  int r = sigwait(&set, &sig);
  *(int *)arg = r == 0 ? sig : -1;
  return 0;
}

// ---- cancellation ----
static void *sleeper(void *arg) { (void)arg; for (;;) sleep(10); return 0; }

// ---- ends ----
static void *exit_from_thread(void *arg) { (void)arg; exit(42); }
static void *outlive_main(void *arg) { (void)arg; for (int i = 0; i < 3; i++) sched_yield(); printf("  the thread outlived main\n"); fflush(stdout); return 0; }
static volatile int *volatile nowhere = (int *)16;
static void *segfault(void *arg) { (void)arg; *nowhere = 1; return 0; }
static void *forker(void *arg) {
  (void)arg;
  pid_t child = fork();
  if (child == 0) _exit(getpid() == tid() ? 5 : 6); // the child's one thread is its main thread
  int status;
  return (void *)(long)(waitpid(child, &status, 0) == child && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static char self_path[] = "/proc/self/exe";
static void *exec_self(void *arg) {
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)(long)arg);
  char *argv[] = {self_path, "exec-check", pid, 0};
  execv(self_path, argv);
  _exit(99);
}
static void *spin(void *arg) { (void)arg; for (;;) sched_yield(); return 0; }

// ---- futex(2) itself: its errors and its queues, as the man page has them ----
// <linux/futex.h>'s numbers (musl's SDK has no kernel headers).
enum { FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
       FUTEX_WAIT_BITSET = 9, FUTEX_PRIVATE_FLAG = 128 };
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_REQUEUE_PRIVATE (FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_OP_SET 0
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP(op, oparg, cmp, cmparg) ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))
static long futex_call(volatile int *uaddr, int op, int val, long val2, volatile int *uaddr2, int val3) {
  struct timespec *timeout = (struct timespec *)val2;
  long r = syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
  return r < 0 ? -errno : r;
}
static volatile int word_a, word_b;
static void *wait_on_a(void *arg) {
  (void)arg;
  while (word_a == 0) futex_call(&word_a, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
  return 0;
}

static void futex_calls(void) {
  static int aligned[2];
  volatile int *odd = (volatile int *)((char *)aligned + 2);
  printf("futex: misaligned wait %ld, wrong value %ld, wake with none waiting %ld\n", futex_call(odd, FUTEX_WAIT, 0, 0, 0, 0),
         futex_call(&word_a, FUTEX_WAIT, 1, 0, 0, 0), futex_call(&word_a, FUTEX_WAKE, 1, 0, 0, 0));
  struct timespec ten_ms = {0, 10 * 1000 * 1000};
  printf("futex: timed wait %ld, zero bitset %ld, bad timeout %ld\n", futex_call(&word_a, FUTEX_WAIT_PRIVATE, 0, (long)&ten_ms, 0, 0),
         futex_call(&word_a, FUTEX_WAIT_BITSET_PRIVATE, 0, 0, 0, 0), futex_call(&word_a, FUTEX_WAIT, 0, (long)(struct timespec[]){{0, 2000000000}}, 0, 0));
  printf("futex: compare-requeue with a changed value %ld\n", futex_call(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &word_b, 5));
  // Three waiters on a, moved to b as each comes (a compare-requeue that wakes none counts those it moved, so the loop
  // ends when all three wait on b, however the threads ran); then one woken and two moved back to a, and those two woken.
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], 0, wait_on_a, 0);
  long moved = 0;
  while (moved < 3) { moved += futex_call(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 0, 3, &word_b, 0); sched_yield(); }
  word_a = 1;
  long back = futex_call(&word_b, FUTEX_REQUEUE_PRIVATE, 1, 2, &word_a, 0);
  long woken = futex_call(&word_a, FUTEX_WAKE_PRIVATE, 10, 0, 0, 0);
  for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
  printf("futex: moved %ld from a to b; requeue back woke and moved %ld; woken from a %ld\n", moved, back, woken);
  // WAKE_OP: b = 3 (op SET 3), wake a; if old b == 0, wake b too.
  word_b = 0;
  long op = futex_call(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &word_b, FUTEX_OP(FUTEX_OP_SET, 3, FUTEX_OP_CMP_EQ, 0));
  printf("futex: wake-op woke %ld and set b to %d\n", op, word_b);
}

static void report_child(const char *what, void *(*fn)(void *), int main_exits) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    pthread_t t;
    pthread_create(&t, 0, fn, 0);
    if (main_exits) pthread_exit(0);
    pthread_join(t, 0);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) printf("%s: killed by signal %d\n", what, WTERMSIG(status));
}

// ---- handoff: a token passed around three threads, a counter, a signal taken by sigwait ----
static int token, passes;
static pthread_cond_t token_moved = PTHREAD_COND_INITIALIZER;
static void *pass_token(void *arg) {
  long me = (long)arg;
  for (int round = 0; round < 100; round++) {
    pthread_mutex_lock(&lock);
    while (token != me) pthread_cond_wait(&token_moved, &lock);
    token = (token + 1) % 3;
    passes++;
    counter += me + 1;
    pthread_cond_broadcast(&token_moved);
    pthread_mutex_unlock(&lock);
  }
  return 0;
}

static int handoff(void) {
  printf("ready\n");
  fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, 0);
  int waited = 0;
  pthread_t t[4];
  pthread_create(&t[3], 0, sigwaiter, &waited);
  for (long i = 0; i < 3; i++) pthread_create(&t[i], 0, pass_token, (void *)i);
  kill(getpid(), SIGUSR2);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  printf("handoff: %d passes, counter %ld, sigwait got %d\n", passes, counter, waited);
  return 0;
}

// ---- leader-exits: main ends with pthread_exit while its threads go on; the last one's end is the process's ----
static pthread_t main_thread;
static void *count_on(void *arg) {
  long rounds = (long)arg, reporter = rounds == 2000;
  if (reporter) pthread_join(main_thread, 0); // main has ended: the rest runs in a process whose leader is gone
  for (long i = 1; i <= rounds; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
    if (i % 50 == 0) sched_yield();
    if (reporter && i % 500 == 0) { printf("counted %ld\n", i); fflush(stdout); }
  }
  pthread_mutex_lock(&lock);
  if (++passes == 2) printf("last thread: counter %ld, main's pid still ours %d\n", counter, getpid() == main_pid);
  pthread_mutex_unlock(&lock);
  return 0;
}

static int leader_exits(void) {
  main_pid = getpid();
  main_thread = pthread_self();
  printf("ready\n");
  fflush(stdout);
  pthread_t t[2];
  pthread_create(&t[0], 0, count_on, (void *)1000);
  pthread_create(&t[1], 0, count_on, (void *)2000);
  pthread_exit(0);
}

// ---- gated: threads that wait for a file ----
static const char *gate_file;
static int gate_open;
static pthread_cond_t gate_moved = PTHREAD_COND_INITIALIZER;
static void *watch_gate(void *arg) {
  (void)arg;
  while (access(gate_file, F_OK) != 0) usleep(20000);
  pthread_mutex_lock(&lock);
  gate_open = 1;
  pthread_cond_broadcast(&gate_moved);
  pthread_mutex_unlock(&lock);
  return 0;
}
static void *after_gate(void *arg) {
  long id = (long)arg, s = 0;
  pthread_mutex_lock(&lock);
  while (!gate_open) pthread_cond_wait(&gate_moved, &lock);
  pthread_mutex_unlock(&lock);
  for (long i = 0; i < 300000; i++) s += (i * (id + 3)) % 7;
  for (int i = 0; i < 5000; i++) { pthread_mutex_lock(&lock); counter++; pthread_mutex_unlock(&lock); }
  sums[id] = s;
  return 0;
}

static int gated(const char *file) {
  gate_file = file;
  pthread_t t[4];
  for (long i = 0; i < 3; i++) pthread_create(&t[i], 0, after_gate, (void *)i);
  pthread_create(&t[3], 0, watch_gate, 0);
  printf("waiting for %s\n", file);
  fflush(stdout);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  printf("gated: counter %ld, sums %ld %ld %ld\n", counter, sums[0], sums[1], sums[2]);
  return 0;
}

// execve from a thread that is not the main one: the other threads go, and the process keeps its pid. (qemu-riscv32
// cannot exec a RISC-V program here: its execve is the host's, which fails with ENOEXEC.)
static int exec_from_thread(void) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    pthread_t t1, t2;
    pthread_create(&t1, 0, spin, 0);
    pthread_create(&t2, 0, exec_self, (void *)(long)getpid());
    for (;;) pause();
  }
  int status;
  waitpid(child, &status, 0);
  printf("execve from a thread: exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));

  return 0;
}

// A robust mutex held by a thread that ends without unlocking it (a raw exit, past the C library's own clean-up): the
// kernel marks it as the thread ends (set_robust_list(2)), and the next lock returns EOWNERDEAD. (qemu-riscv32 does not
// offer robust lists: its set_robust_list fails with ENOSYS and such a lock waits for ever.)
static pthread_mutex_t robust;
static sem_t robust_held;
static void *hold_and_die(void *arg) {
  (void)arg;
  pthread_mutex_lock(&robust);
  sem_post(&robust_held);
  syscall(SYS_exit, 0);
  return 0;
}

static int robust_owner_dies(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED); // the C library hands only process-shared ones to the kernel's list
  pthread_mutex_init(&robust, &attr);
  sem_init(&robust_held, 0, 0);
  pthread_t t;
  pthread_create(&t, 0, hold_and_die, 0);
  sem_wait(&robust_held);
  int r = pthread_mutex_lock(&robust);
  printf("a robust mutex whose owner ended: %s\n", r == EOWNERDEAD ? "EOWNERDEAD" : strerror(r));
  printf("made consistent: %d, unlocked: %d, locked again: %d\n", pthread_mutex_consistent(&robust), pthread_mutex_unlock(&robust), pthread_mutex_lock(&robust));
  return 0;
}

// Two threads each holding the lock the other one wants, main joining them: nothing in the guest can wake any of them,
// and (as on Linux) the process waits until a signal comes from outside.
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER, second_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;
static void *lock_in_order(void *arg) {
  pthread_mutex_t *mine = arg ? &second_lock : &first_lock, *theirs = arg ? &first_lock : &second_lock;
  pthread_mutex_lock(mine);
  pthread_barrier_wait(&both_hold);
  pthread_mutex_lock(theirs);
  return 0;
}

static int deadlock(void) {
  pthread_barrier_init(&both_hold, 0, 3);
  pthread_t t[2];
  for (long i = 0; i < 2; i++) pthread_create(&t[i], 0, lock_in_order, (void *)i);
  pthread_barrier_wait(&both_hold);
  printf("deadlocked\n");
  fflush(stdout);
  for (int i = 0; i < 2; i++) pthread_join(t[i], 0);
  return 0;
}

// ---- for bench/processes.ts: two threads handing a turn back and forth; threads made and joined ----
static int turn;
static long turns;
static void *take_turns(void *arg) {
  int me = (int)(long)arg;
  for (long i = 0; i < turns; i++) {
    pthread_mutex_lock(&lock);
    while (turn != me) pthread_cond_wait(&token_moved, &lock);
    turn = 1 - me;
    pthread_cond_signal(&token_moved);
    pthread_mutex_unlock(&lock);
  }
  return 0;
}

static int pingpong(long n) {
  turns = n;
  pthread_t a, b;
  pthread_create(&a, 0, take_turns, (void *)0);
  pthread_create(&b, 0, take_turns, (void *)1);
  pthread_join(a, 0);
  pthread_join(b, 0);
  printf("pingpong: %ld turns each\n", n);
  return 0;
}

static void *add_one(void *arg) { pthread_mutex_lock(&lock); counter += (long)arg; pthread_mutex_unlock(&lock); return 0; }

static int spawn(long n) {
  for (long done = 0; done < n; done += 100) {
    pthread_t t[100];
    for (long i = 0; i < 100; i++) if (pthread_create(&t[i], 0, add_one, (void *)1)) { perror("pthread_create"); return 1; }
    for (int i = 0; i < 100; i++) pthread_join(t[i], 0);
  }
  printf("spawn: %ld threads made and joined\n", counter);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "pingpong") == 0) return pingpong(atol(argv[2]));
  if (argc > 2 && strcmp(argv[1], "spawn") == 0) return spawn(atol(argv[2]));
  if (argc > 1 && strcmp(argv[1], "handoff") == 0) return handoff();
  if (argc > 1 && strcmp(argv[1], "leader-exits") == 0) return leader_exits();
  if (argc > 1 && strcmp(argv[1], "exec-from-thread") == 0) return exec_from_thread();
  if (argc > 1 && strcmp(argv[1], "robust") == 0) return robust_owner_dies();
  if (argc > 1 && strcmp(argv[1], "deadlock") == 0) return deadlock();
  if (argc > 2 && strcmp(argv[1], "exec-check") == 0) {
    // The program a thread exec'd: the process's pid is the one it had, and its one thread is the main one.
    printf("  after execve: same pid %d, one thread %d\n", getpid() == atoi(argv[2]), tid() == getpid());
    return 3;
  }
  if (argc > 2 && strcmp(argv[1], "gated") == 0) return gated(argv[2]);
  main_pid = getpid();
  main_ppid = getppid();
  printf("main thread: tid == pid %d\n", tid() == main_pid);

  pthread_t t[4];
  for (long i = 0; i < 4; i++) if (pthread_create(&t[i], 0, work, (void *)i)) { perror("pthread_create"); return 1; }
  for (int i = 0; i < 4; i++) { void *r; pthread_join(t[i], &r); printf("work %d: sum %ld, returned %ld\n", i, sums[i], (long)r); }

  for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, add, 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  printf("mutex: counter %ld (expected 80000)\n", counter);

  long got[3];
  pthread_t p, c[3];
  for (int i = 0; i < 3; i++) pthread_create(&c[i], 0, consumer, &got[i]);
  pthread_create(&p, 0, producer, 0);
  pthread_join(p, 0);
  for (int i = 0; i < 3; i++) { // one end marker per consumer
    pthread_mutex_lock(&lock);
    while (count_in_queue == QSIZE) pthread_cond_wait(&not_full, &lock);
    queue[tail] = -1; tail = (tail + 1) % QSIZE; count_in_queue++;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  for (int i = 0; i < 3; i++) pthread_join(c[i], 0);
  printf("condition variables: consumed %ld items summing to %ld\n", got[0] + got[1] + got[2], consumed_sum);

  for (long i = 1; i <= 2; i++) pthread_create(&t[i], 0, ids, (void *)i);
  for (int i = 1; i <= 2; i++) { void *r; pthread_join(t[i], &r); printf("thread %d: local, same pid, same ppid, own tid: %ld\n", i, (long)r); }
  printf("main's local still %d\n", local);

  sem_init(&done, 0, 0);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (int i = 0; i < 3; i++) pthread_create(&t[0], &attr, detached, 0);
  for (int i = 0; i < 3; i++) sem_wait(&done);
  printf("detached threads posted 3 times\n");

  pthread_barrier_init(&barrier, 0, 3);
  int serials = 0;
  for (long i = 0; i < 3; i++) pthread_create(&t[i], 0, at_barrier, (void *)i);
  for (int i = 0; i < 3; i++) { void *r; pthread_join(t[i], &r); serials += (int)(long)r; }
  printf("barrier: one serial thread (%d), each saw all 3 arrive (%d %d %d)\n", serials, seen_all[0], seen_all[1], seen_all[2]);

  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 20 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
  pthread_mutex_lock(&lock);
  int r = pthread_cond_timedwait(&not_empty, &lock, &deadline);
  pthread_mutex_unlock(&lock);
  printf("timed wait: %s\n", r == ETIMEDOUT ? "ETIMEDOUT" : strerror(r));

  signal(SIGUSR1, on_usr1);
  pthread_create(&t[0], 0, wait_usr1, 0);
  while (!usr1_go) sched_yield();
  pthread_kill(t[0], SIGUSR1);
  pthread_join(t[0], 0);
  printf("pthread_kill: the handler ran in the target thread %d\n", handled_in == usr1_tid);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, 0); // blocked in every thread from here: sigwait takes it
  int waited = 0;
  pthread_create(&t[0], 0, sigwaiter, &waited);
  kill(getpid(), SIGUSR2);
  pthread_join(t[0], 0);
  printf("kill to the process: sigwait in a thread got signal %d\n", waited);

  pthread_create(&t[0], 0, sleeper, 0);
  sched_yield();
  pthread_cancel(t[0]);
  void *cancelled;
  pthread_join(t[0], &cancelled);
  printf("cancel: joined a cancelled thread %d\n", cancelled == PTHREAD_CANCELED);

  futex_calls();

  pthread_create(&t[0], 0, forker, 0);
  void *forked;
  pthread_join(t[0], &forked);
  printf("fork from a thread: the child's one thread is its main thread, exit %ld\n", (long)forked);

  report_child("exit(42) in a thread", exit_from_thread, 0);
  report_child("pthread_exit in main", outlive_main, 1);
  report_child("a thread writes to address 16", segfault, 0);

  // Stopped and continued as one: every thread stops with SIGSTOP, goes on with SIGCONT.
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    pthread_t t1;
    pthread_create(&t1, 0, spin, 0);
    for (;;) sched_yield();
  }
  kill(child, SIGSTOP);
  int status;
  pid_t r1 = waitpid(child, &status, WUNTRACED);
  printf("SIGSTOP to a process with threads: %s\n", r1 == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP ? "stopped" : "not stopped");
  kill(child, SIGCONT);
  r1 = waitpid(child, &status, WCONTINUED);
  printf("SIGCONT: %s\n", r1 == child && WIFCONTINUED(status) ? "continued" : "not continued");
  kill(child, SIGTERM);
  waitpid(child, &status, 0);
  printf("SIGTERM: killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return 0;
}
