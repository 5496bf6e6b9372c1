/* exit-code: prints a line and exits through the finisher with status 3. */
#include "rt.h"

int main(void)
{
    printf("exit-code: exiting with status 3\n");
    return 3;
}
