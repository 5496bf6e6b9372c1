/* A Dhrystone-like integer mix (our own code, in the spirit of Dhrystone 2.1):
 * record copies through pointers, enums and switches, string copy and
 * compare, small arrays, short function calls, integer division. */
#include "kernels.h"

typedef enum { E_ONE, E_TWO, E_THREE, E_FOUR, E_FIVE } kind_t;

typedef struct rec {
    struct rec *next;
    kind_t kind;
    kind_t tag;
    int32_t value;
    char text[32];
} rec_t;

static rec_t rec_a, rec_b;
static rec_t *glob_ptr;
static int32_t glob_int;
static char glob_ch1, glob_ch2;
static int glob_bool;
static int32_t arr1[50];
static int32_t arr2[50][50];

static __attribute__((noinline)) int is_even_kind(kind_t k)
{
    return k == E_THREE;
}

static __attribute__((noinline)) kind_t choose(kind_t k)
{
    switch (k) {
    case E_ONE: return E_ONE;
    case E_TWO: return glob_int > 100 ? E_ONE : E_FOUR;
    case E_THREE: return E_TWO;
    case E_FOUR: return E_THREE;
    default: return E_FIVE;
    }
}

static __attribute__((noinline)) void adjust(int32_t a, int32_t b, int32_t *out)
{
    *out = b + a + 2;
}

static __attribute__((noinline)) void fill_arrays(int32_t idx, int32_t val)
{
    int32_t loc = idx + 5;
    arr1[loc] = val;
    arr1[loc + 1] = arr1[loc];
    arr1[loc + 30] = loc;
    for (int32_t i = loc; i <= loc + 1; i++)
        arr2[loc][i] = loc;
    arr2[loc][loc - 1] += 1;
    arr2[loc + 20][loc] = arr1[loc];
    glob_int = 5;
}

static __attribute__((noinline)) char char_cmp(char a, char b)
{
    if (a != b)
        return 0;
    glob_ch1 = a;
    return 1;
}

static __attribute__((noinline)) int str_gt(const char *a, const char *b)
{
    int i = 2;
    char c = 0;
    while (i <= 2) {
        if (char_cmp(a[i], b[i + 1]) == 0)
            c = 'A';
        i++;
    }
    if (c >= 'W' && c < 'Z')
        i = 7;
    if (c == 'R')
        return 1;
    if (strcmp(a, b) > 0) {
        glob_int = i + 7;
        return 1;
    }
    return 0;
}

static __attribute__((noinline)) void update_record(rec_t *r)
{
    rec_t *n = r->next;
    *n = *glob_ptr; /* structure copy */
    r->value = 5;
    n->value = r->value;
    n->next = r->next;
    if (n->kind == E_ONE) {
        n->value = 6;
        n->tag = choose(r->tag);
        n->next = glob_ptr->next;
        adjust(n->value, 10, &n->value);
    } else {
        *r = *r->next;
    }
}

uint32_t k_dhry(uint32_t iterations)
{
    /* start from the same state every call: the result depends only on
     * the iteration count */
    memset(&rec_a, 0, sizeof rec_a);
    memset(&rec_b, 0, sizeof rec_b);
    memset(arr1, 0, sizeof arr1);
    memset(arr2, 0, sizeof arr2);
    glob_int = 0;
    glob_ch1 = glob_ch2 = 0;
    glob_bool = 0;
    rec_b.next = NULL;
    rec_a.next = &rec_b;
    rec_a.kind = E_ONE;
    rec_a.tag = E_THREE;
    rec_a.value = 40;
    strcpy(rec_a.text, "ROAM PROGRAM, SOME STRING");
    glob_ptr = &rec_a;
    char s1[32], s2[32];
    strcpy(s1, "ROAM PROGRAM, 1'ST STRING");
    arr2[8][7] = 10;
    uint32_t sum = 0;

    for (uint32_t run = 1; run <= iterations; run++) {
        int32_t i1 = 2, i2 = 3, i3;
        strcpy(s2, "ROAM PROGRAM, 2'ND STRING");
        kind_t k = E_TWO;
        glob_bool = !str_gt(s1, s2);
        while (i1 < i2) {
            i3 = 5 * i1 - i2;
            adjust(i1, i2, &i3);
            i1++;
        }
        fill_arrays(i1, i3);
        update_record(glob_ptr);
        for (char c = 'A'; c <= glob_ch2 + 'C' - 'A'; c++)
            if (k == choose((kind_t)(c & 3)))
                k = E_THREE;
        i2 = i2 * i1;
        i1 = i2 / i3;
        i2 = 7 * (i2 - i3) - i1;
        glob_ch2 = 'B';
        if (is_even_kind(k))
            i1 += 1;
        sum = rotl32(sum, 7) ^ (uint32_t)(i1 + i2 * 3 + i3 + glob_int + (int)k + glob_bool + glob_ptr->value);
        sum += (uint32_t)arr1[8] + (uint32_t)arr2[8][7] + (uint8_t)glob_ch1;
    }
    return sum ^ (uint32_t)rec_a.value ^ ((uint32_t)rec_b.tag << 8) ^ (uint32_t)strlen(rec_b.text);
}
