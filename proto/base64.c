/*
 * base64.c -- encoder and lenient decoder for meta "b" keys.
 *
 * The decoder works on groups of four symbols.  A symbol is an alphabet
 * character or '=' (worth 0 bits, counted as padding); anything else is
 * skipped.  A group with one pad yields two bytes, with two pads one byte,
 * and ends the input; three or four pads are an error.  This matches the
 * inputs memcached accepts and rejects, which clients depend on.
 */
#include "proto/base64.h"

#include <stdint.h>

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Symbol value, 64 for '=', 255 for bytes that are skipped. */
static const uint8_t b64_value[256] = {
    ['A'] = 0,   ['B'] = 1,   ['C'] = 2,   ['D'] = 3,   ['E'] = 4,
    ['F'] = 5,   ['G'] = 6,   ['H'] = 7,   ['I'] = 8,   ['J'] = 9,
    ['K'] = 10,  ['L'] = 11,  ['M'] = 12,  ['N'] = 13,  ['O'] = 14,
    ['P'] = 15,  ['Q'] = 16,  ['R'] = 17,  ['S'] = 18,  ['T'] = 19,
    ['U'] = 20,  ['V'] = 21,  ['W'] = 22,  ['X'] = 23,  ['Y'] = 24,
    ['Z'] = 25,  ['a'] = 26,  ['b'] = 27,  ['c'] = 28,  ['d'] = 29,
    ['e'] = 30,  ['f'] = 31,  ['g'] = 32,  ['h'] = 33,  ['i'] = 34,
    ['j'] = 35,  ['k'] = 36,  ['l'] = 37,  ['m'] = 38,  ['n'] = 39,
    ['o'] = 40,  ['p'] = 41,  ['q'] = 42,  ['r'] = 43,  ['s'] = 44,
    ['t'] = 45,  ['u'] = 46,  ['v'] = 47,  ['w'] = 48,  ['x'] = 49,
    ['y'] = 50,  ['z'] = 51,  ['0'] = 52,  ['1'] = 53,  ['2'] = 54,
    ['3'] = 55,  ['4'] = 56,  ['5'] = 57,  ['6'] = 58,  ['7'] = 59,
    ['8'] = 60,  ['9'] = 61,  ['+'] = 62,  ['/'] = 63,  ['='] = 64,
};

/* The table above leaves unlisted bytes at 0, which is also 'A'; this
 * predicate tells them apart. */
static inline int
b64_symbol(unsigned char c)
{
    return b64_value[c] != 0 || c == 'A';
}

size_t
base64_encode(const void *src, size_t n, char *dst)
{
    const unsigned char *s = src;
    char *d = dst;
    size_t i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        d[0] = b64_alphabet[v >> 18];
        d[1] = b64_alphabet[(v >> 12) & 63];
        d[2] = b64_alphabet[(v >> 6) & 63];
        d[3] = b64_alphabet[v & 63];
        d += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        d[0] = b64_alphabet[v >> 18];
        d[1] = b64_alphabet[(v >> 12) & 63];
        d[2] = '=';
        d[3] = '=';
        d += 4;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        d[0] = b64_alphabet[v >> 18];
        d[1] = b64_alphabet[(v >> 12) & 63];
        d[2] = b64_alphabet[(v >> 6) & 63];
        d[3] = '=';
        d += 4;
    }
    return (size_t)(d - dst);
}

size_t
base64_decode(const char *src, size_t n, void *dst, size_t dstmax)
{
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *d = dst;
    size_t symbols = 0, out = 0;
    uint32_t group = 0;
    unsigned k = 0, pad = 0;

    for (size_t i = 0; i < n; i++) {
        symbols += b64_symbol(s[i]);
    }
    if (symbols == 0 || symbols % 4 != 0) {
        return 0;
    }

    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        uint8_t v;

        if (!b64_symbol(c)) {
            continue;
        }
        v = b64_value[c];
        if (v == 64) {
            pad++;
            v = 0;
        }
        group = group << 6 | v;
        if (++k < 4) {
            continue;
        }
        if (pad > 2) {
            return 0;
        }
        if (out + 3 - pad > dstmax) {
            return 0;
        }
        d[out++] = (unsigned char)(group >> 16);
        if (pad < 2) {
            d[out++] = (unsigned char)(group >> 8);
        }
        if (pad < 1) {
            d[out++] = (unsigned char)group;
        }
        if (pad > 0) {
            break;
        }
        k = 0;
        group = 0;
    }
    return out;
}
