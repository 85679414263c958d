/* fallocate(2) in the three modes a writer uses (see CPOSIXShim.h). */
#define _GNU_SOURCE
#include "CPOSIXShim.h"

#include <fcntl.h>
#include <linux/falloc.h>

int cposix_fallocate(int fd, enum cposix_space_mode mode, int64_t offset, int64_t length) {
    int flags = 0;
    switch (mode) {
    case CPOSIX_SPACE_RESERVE_BEYOND_END: flags = FALLOC_FL_KEEP_SIZE; break;
    case CPOSIX_SPACE_EXTEND: flags = 0; break;
    case CPOSIX_SPACE_RELEASE: flags = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE; break;
    }
    return fallocate(fd, flags, (off_t)offset, (off_t)length);
}
