/* A small printf: %d %i %u %x %X %s %c %p %%, flags '-' '+' '0', width, 'l' ignored. */
#include <stdarg.h>
#include "rt.h"

struct out {
    char *buf; /* NULL: write to the UART */
    size_t cap;
    size_t len;
};

static void out_char(struct out *o, char c)
{
    if (o->buf) {
        if (o->len + 1 < o->cap)
            o->buf[o->len] = c;
    } else {
        uart_putc(c);
    }
    o->len++;
}

static void out_field(struct out *o, const char *s, int n, int width, int left, char pad)
{
    if (!left && pad == '0' && n > 0 && (s[0] == '-' || s[0] == '+')) { /* "-0042" not "00-42" */
        out_char(o, '-');
        s++, n--, width--;
    }
    if (!left)
        for (int i = n; i < width; i++)
            out_char(o, pad);
    for (int i = 0; i < n; i++)
        out_char(o, s[i]);
    if (left)
        for (int i = n; i < width; i++)
            out_char(o, ' ');
}

static int vformat(struct out *o, const char *fmt, va_list ap)
{
    char tmp[16];
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out_char(o, *fmt);
            continue;
        }
        fmt++;
        int left = 0, plus = 0, width = 0;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '+')
                plus = 1;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        if (*fmt == 0)
            break;
        switch (*fmt) {
        case 'd':
        case 'i':
        case 'u': {
            uint32_t v = va_arg(ap, uint32_t);
            int neg = (*fmt != 'u') && (int32_t)v < 0;
            if (neg)
                v = 0u - v;
            int n = 0;
            do {
                tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            if (neg)
                tmp[sizeof tmp - 1 - n++] = '-';
            else if (plus && *fmt != 'u')
                tmp[sizeof tmp - 1 - n++] = '+';
            out_field(o, tmp + sizeof tmp - n, n, width, left, pad);
            break;
        }
        case 'x':
        case 'X':
        case 'p': {
            uint32_t v = *fmt == 'p' ? (uint32_t)va_arg(ap, void *) : va_arg(ap, uint32_t);
            const char *digits = *fmt == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            int n = 0;
            do {
                tmp[sizeof tmp - 1 - n++] = digits[v & 15];
                v >>= 4;
            } while (v);
            if (*fmt == 'p') {
                tmp[sizeof tmp - 1 - n++] = 'x';
                tmp[sizeof tmp - 1 - n++] = '0';
            }
            out_field(o, tmp + sizeof tmp - n, n, width, left, pad);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            out_field(o, s, (int)strlen(s), width, left, ' ');
            break;
        }
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            out_field(o, tmp, 1, width, left, ' ');
            break;
        case '%':
            out_char(o, '%');
            break;
        default:
            out_char(o, '%');
            out_char(o, *fmt);
            break;
        }
    }
    return (int)o->len;
}

int printf(const char *fmt, ...)
{
    struct out o = {NULL, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(&o, fmt, ap);
    va_end(ap);
    return n;
}

int snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    struct out o = {buf, cap, 0};
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(&o, fmt, ap);
    va_end(ap);
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = 0;
    return n;
}

int puts(const char *s)
{
    uart_puts(s);
    uart_putc('\n');
    return 0;
}
