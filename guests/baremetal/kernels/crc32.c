#include "kernels.h"

static uint8_t buf[CRC_MAX];
static uint32_t table[256];

uint32_t k_crc32(uint32_t len, uint32_t seed)
{
    if (len > CRC_MAX)
        len = CRC_MAX;
    /* the table is rebuilt every call: it is part of the work */
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t s = seed * 2654435761u + 1;
    for (uint32_t i = 0; i < len; i += 4) {
        uint32_t r = xorshift32(&s);
        buf[i] = (uint8_t)r;
        buf[i + 1] = (uint8_t)(r >> 8);
        buf[i + 2] = (uint8_t)(r >> 16);
        buf[i + 3] = (uint8_t)(r >> 24);
    }
    uint32_t crc = 0xffffffffu;
    for (uint32_t i = 0; i < len; i++)
        crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}
