/* memmem and memrchr, declared only with _GNU_SOURCE (see CPOSIXShim.h). */
#define _GNU_SOURCE
#include "CPOSIXShim.h"

#include <string.h>

void *cposix_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length);
}

void *cposix_memrchr(const void *bytes, int byte, size_t length) { return memrchr(bytes, byte, length); }
