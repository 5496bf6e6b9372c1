/* compute-mix: all the kernels in machine mode, paging off. */
#include "kernels.h"

int mix_main(const char *name);

int main(void)
{
    return mix_main("compute-mix");
}
