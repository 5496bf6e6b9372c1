/* Roam bare-metal runtime for QEMU virt (-bios none), RV32IMAC, machine mode. */
#ifndef RT_H
#define RT_H

typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned short uint16_t;
typedef short int16_t;
typedef unsigned char uint8_t;
typedef signed char int8_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
typedef unsigned int size_t;
typedef unsigned int uintptr_t;

#define NULL ((void *)0)

/* QEMU virt devices */
#define FINISHER_BASE 0x00100000u /* SiFive test finisher */
#define UART0_BASE 0x10000000u    /* NS16550A, registers one byte apart */

#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u

#define read_csr(reg) ({ uint32_t __v; __asm__ volatile("csrr %0, " #reg : "=r"(__v)); __v; })
#define write_csr(reg, val) __asm__ volatile("csrw " #reg ", %0" ::"rK"(val))
#define set_csr(reg, bits) __asm__ volatile("csrs " #reg ", %0" ::"rK"(bits))
#define clear_csr(reg, bits) __asm__ volatile("csrc " #reg ", %0" ::"rK"(bits))

/* Saved by trap_entry (crt0.S); trap_handler may change mepc and x[]. */
struct trap_frame {
    uint32_t x[32]; /* x[2] is the interrupted sp */
    uint32_t mepc;
    uint32_t mcause;
    uint32_t mtval;
    uint32_t mstatus;
};

/* Weak default: prints the trap and exits with status 0x7f. */
void trap_handler(struct trap_frame *f);

/* Exit through the finisher: 0 -> 0x5555, else (code << 16) | 0x3333. */
__attribute__((noreturn)) void rt_exit(int code);

/* UART */
void uart_init(void); /* 16550 init (IER, DLAB + divisor, LCR, MCR); optional */
void uart_putc(char c);
int uart_getc(void);     /* blocks */
int uart_try_getc(void); /* -1 if nothing received */
void uart_puts(const char *s);

/* Formatted output: %d %i %u %x %X %s %c %p %%, with flags '-' '+' '0', width,
 * and an ignored 'l' length modifier. */
int printf(const char *fmt, ...);
int snprintf(char *buf, size_t n, const char *fmt, ...);
int puts(const char *s); /* appends '\n' */

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strcpy(char *d, const char *s);

#endif
