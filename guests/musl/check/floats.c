/* printf and strtod of floats: musl's own soft-float formatting on ilp32. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("%.3f %g %e %.10g\n", 3.14159, 1e-5, 12345.678, sqrt(2.0));
    printf("%f %a\n", strtod("2.5e3", NULL), 1.0);
    printf("%.2f %.0f\n", (double)(float)0.1f, floor(-2.5));
    return 0;
}
