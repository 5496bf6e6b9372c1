/* echo-lines: reads lines from stdin and writes each back numbered, in the
 * format of `cat -n` ("%6d\t" then the line), one write per line as soon as
 * the line is complete - an interactive guest that spends most of its time
 * blocked in read(). A last line without a newline is echoed without one.
 * On EOF it reports the count on stderr ("echo-lines: N lines") and exits 0. */
#include <stdio.h>

int main(void)
{
    unsigned long n = 0;
    int at_start = 1, c;
    while ((c = getchar()) != EOF) {
        if (at_start) {
            printf("%6lu\t", ++n);
            at_start = 0;
        }
        putchar(c);
        if (c == '\n') {
            fflush(stdout);
            at_start = 1;
        }
    }
    fflush(stdout);
    fprintf(stderr, "echo-lines: %lu lines\n", n);
    return 0;
}
