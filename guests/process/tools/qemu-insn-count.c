/* A QEMU TCG plugin that counts the guest instructions a run executes, for
 * sizing the process-mode guests (qemu-riscv32 has no other counter).
 * Written against QEMU 7.2's plugin API (version 1), declared by hand so no
 * QEMU headers are needed; a QEMU whose plugin API has moved on will refuse
 * to load it. Counts per translation block, so it is exact for blocks that
 * run to the end (a trap in mid-block overcounts that block).
 *
 *   gcc -shared -fPIC -O2 -o /tmp/insn-count.so guests/process/tools/qemu-insn-count.c
 *   qemu-riscv32 -d plugin -plugin /tmp/insn-count.so guests/bin/process/compute.elf bench
 *   -> "insns: 1432837023" on stderr (-d plugin sends the plugin's output there)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;

#define EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_INLINE_ADD_U64 0

EXPORT int qemu_plugin_version = 1;

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                  void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op, void *ptr, uint64_t imm);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *),
                                           void *userdata);
extern void qemu_plugin_outs(const char *string);

static uint64_t count;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &count, qemu_plugin_tb_n_insns(tb));
}

static void report(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    char line[64];
    snprintf(line, sizeof line, "insns: %llu\n", (unsigned long long)count);
    qemu_plugin_outs(line);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    (void)argc;
    (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, report, NULL);
    return 0;
}
