#define _GNU_SOURCE
#include "CMicroHTTPD.h"

#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- A request line that starts with NUL --------------------------------------------------- */

/*
 * libmicrohttpd 0.9.75 (connection.c, MHD_connection_handle_idle) tolerates empty lines before a
 * request line by testing `0 == line[0]` on the NUL-terminated line it cut out of its buffer, so
 * a line whose first byte is NUL counts as empty: it is dropped before the URI log callback, the
 * access handler or any other hook sees it, and the client waits, unanswered, for a request line
 * libmicrohttpd will never see. The bytes are visible only where libmicrohttpd receives them, so
 * this file defines recv(2), which the dynamic linker binds libmicrohttpd's calls to (the
 * executable is searched first). For a connection registered with cmhd_request_line_watch, the
 * first byte that is not CR or LF is looked at once: a NUL there becomes DEL (0x7F), just as
 * invalid in a request line but not taken for its end, so the line reaches the request-line
 * checks (Callbacks) and is answered 400, or, when it has no space at all, libmicrohttpd closes
 * the connection at once. Every other recv call, and every byte after that first one, passes
 * through unchanged. On TLS connections the first byte is a record type and never NUL from a
 * real client; GnuTLS refuses DEL as it would NUL.
 *
 * Only a connection's first request line is watched: later ones may already sit in
 * libmicrohttpd's buffer, so the next recv could start mid-request. A NUL-led line on a
 * keep-alive connection is still dropped; the connection then waits like an idle keep-alive
 * one, for no longer than the deadlines allow any client.
 */

/* Descriptors at or above this are not watched (their lines are dropped as before). */
#define CMHD_WATCHED_DESCRIPTORS 65536

static atomic_uchar cmhd_request_line_pending[CMHD_WATCHED_DESCRIPTORS];

void cmhd_request_line_watch(int fd) {
    if (fd >= 0 && fd < CMHD_WATCHED_DESCRIPTORS)
        atomic_store_explicit(&cmhd_request_line_pending[fd], 1, memory_order_relaxed);
}

void cmhd_request_line_unwatch(int fd) {
    if (fd >= 0 && fd < CMHD_WATCHED_DESCRIPTORS)
        atomic_store_explicit(&cmhd_request_line_pending[fd], 0, memory_order_relaxed);
}

ssize_t recv(int fd, void *buffer, size_t length, int flags) {
    ssize_t received = syscall(SYS_recvfrom, fd, buffer, length, flags, NULL, NULL);
    if (received <= 0 || fd < 0 || fd >= CMHD_WATCHED_DESCRIPTORS || (flags & MSG_PEEK) != 0
        || atomic_load_explicit(&cmhd_request_line_pending[fd], memory_order_relaxed) == 0)
        return received;
    unsigned char *bytes = buffer;
    for (ssize_t index = 0; index < received; index++) {
        if (bytes[index] == '\r' || bytes[index] == '\n') continue;
        if (bytes[index] == 0) bytes[index] = 0x7F;
        atomic_store_explicit(&cmhd_request_line_pending[fd], 0, memory_order_relaxed);
        break;
    }
    return received;
}
