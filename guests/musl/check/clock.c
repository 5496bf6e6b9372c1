/* time(), clock_gettime and gmtime: a plausible date (after 2024). */
#include <stdio.h>
#include <time.h>

int main(void) {
    time_t t = time(NULL);
    struct timespec m0, m1;
    clock_gettime(CLOCK_MONOTONIC, &m0);
    clock_gettime(CLOCK_MONOTONIC, &m1);
    struct tm tm;
    gmtime_r(&t, &tm);
    printf("year>=2024 %d monotonic %d\n", tm.tm_year + 1900 >= 2024,
           m1.tv_sec > m0.tv_sec || (m1.tv_sec == m0.tv_sec && m1.tv_nsec >= m0.tv_nsec));
    return 0;
}
