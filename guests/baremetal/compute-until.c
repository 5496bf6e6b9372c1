/* compute-until: runs the compute-mix workload (sieve, crc32, matmul,
 * quicksort, dhry; 2 rounds) again and again, each time printing its
 * checksums and verdict, until a byte arrives on the UART; then says how many
 * times it ran and exits 0 (1 if any run went wrong). A compute guest that is
 * busy whenever a test moves it, for as long as the test wants: a fixed-size
 * computation may end before a slow machine gets to the move. */
#include "rt.h"

int mix_main(const char *name);

int main(void)
{
    uint32_t runs = 0;
    int bad = 0;
    do {
        bad |= mix_main("compute-until");
        runs++;
    } while (uart_try_getc() < 0);
    printf("compute-until: %u runs\n", runs);
    return bad;
}
