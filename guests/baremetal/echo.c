/* echo: initializes the 16550 (IER, DLAB + divisor, LCR, MCR), then reads the
 * UART (LSR.DR, RBR) and echoes every byte upper-cased as it arrives. Lines
 * end at '\n' or '\r' (a "\r\n" pair counts once; both echo as '\n'). It
 * stops at an empty line or at EOT (0x04, Ctrl-D), then prints a summary
 * and exits 0. */
#include "rt.h"

int main(void)
{
    uart_init();
    printf("echo: type lines; an empty line or Ctrl-D ends\n");
    uint32_t bytes = 0, lines = 0, letters = 0, line_len = 0, hash = 0x811c9dc5u;
    int last_cr = 0;
    for (;;) {
        int c = uart_getc();
        if (c == 0x04)
            break;
        if (c == '\n' && last_cr) { /* the '\n' of a "\r\n" pair */
            last_cr = 0;
            continue;
        }
        last_cr = c == '\r';
        bytes++;
        hash = (hash ^ (uint32_t)c) * 16777619u;
        if (c == '\r' || c == '\n') {
            uart_putc('\n');
            if (line_len == 0)
                break;
            lines++;
            line_len = 0;
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c -= 'a' - 'A';
            letters++;
        }
        uart_putc((char)c);
        line_len++;
    }
    if (line_len) /* EOT in the middle of a line */
        uart_putc('\n');
    printf("echo: %u lines, %u bytes, %u letters upper-cased, fnv1a 0x%08x\n", lines, bytes, letters, hash);
    return 0;
}
