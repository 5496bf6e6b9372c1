/* NS16550A driver (QEMU virt UART0 at 0x10000000). */
#include "rt.h"

#define REG(off) (*(volatile uint8_t *)(UART0_BASE + (off)))
#define RBR 0 /* receive buffer (read, DLAB=0) */
#define THR 0 /* transmit holding (write, DLAB=0) */
#define IER 1
#define FCR 2 /* write */
#define LCR 3
#define MCR 4
#define LSR 5
#define DLL 0 /* DLAB=1 */
#define DLM 1 /* DLAB=1 */

#define LSR_DR 0x01   /* data ready */
#define LSR_THRE 0x20 /* transmit holding register empty */

void uart_init(void)
{
    REG(IER) = 0x00;  /* no interrupts */
    REG(LCR) = 0x80;  /* DLAB on */
    REG(DLL) = 0x01;  /* divisor 1 (115200 at 1.8432 MHz) */
    REG(DLM) = 0x00;
    REG(LCR) = 0x03;  /* DLAB off, 8N1 */
    REG(MCR) = 0x03;  /* DTR, RTS */
    /* FCR is left alone on purpose: clearing the RX FIFO (or toggling the
     * FIFO enable, which QEMU treats as a clear) would drop input that
     * arrived before this ran, and how much that is depends on timing. */
}

void uart_putc(char c)
{
    while ((REG(LSR) & LSR_THRE) == 0)
        ;
    REG(THR) = (uint8_t)c;
}

int uart_try_getc(void)
{
    if ((REG(LSR) & LSR_DR) == 0)
        return -1;
    return REG(RBR);
}

int uart_getc(void)
{
    int c;
    while ((c = uart_try_getc()) < 0)
        ;
    return c;
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}
