/* openat2 with RESOLVE_BENEATH: confinement decided by the kernel (see CPOSIXShim.h). */
#define _GNU_SOURCE
#include "CPOSIXShim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

int cposix_open_beneath(int dirfd, const char *path, int flags) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int cposix_stat_beneath(int dirfd, const char *path, struct stat *status) {
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd < 0) return -1;
    int result = fstat(fd, status);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}
