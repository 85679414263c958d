/* Selects PCRE2's 8-bit library, so its API appears to Swift as pcre2_*_8. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
