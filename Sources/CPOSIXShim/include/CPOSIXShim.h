/*
 * CPOSIXShim: the POSIX and Linux calls Swift cannot make itself (a raw syscall, a signal handler
 * that jumps, functions that need _GNU_SOURCE, Linux headers that clash with the Glibc module).
 * Nothing here knows about HTTP or libmicrohttpd; the storage layer (MappedFiles, ByteSearch)
 * depends on this target only. No business logic lives here; every symbol carries the cposix_
 * prefix. Functions that fail return -1 with errno set, for the caller to read at once.
 */
#ifndef CPOSIXSHIM_H
#define CPOSIXSHIM_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* ---- Confined open ------------------------------------------------------------------------- */

/*
 * openat2(dirfd, path, flags | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): the kernel
 * refuses any resolution that leaves dirfd, through "..", absolute symlinks or magic links.
 * Returns the descriptor or -1 with errno set (ENOSYS on kernels before 5.6).
 */
int cposix_open_beneath(int dirfd, const char *path, int flags);

/*
 * fstat of what path leads to, resolved like cposix_open_beneath but opened O_PATH: nothing is
 * opened for reading, so a FIFO or device node cannot block or react, and no read permission is
 * needed. Returns 0, or -1 with errno set (EXDEV/ELOOP for a way out of dirfd, ENOENT).
 */
int cposix_stat_beneath(int dirfd, const char *path, struct stat *status);

/* ---- Space for writes ---------------------------------------------------------------------- */

/*
 * fallocate(2), which Swift's Glibc module does not declare (it needs _GNU_SOURCE), with the
 * modes a writer uses. 0 on success, else -1 with errno set (EOPNOTSUPP where the filesystem
 * has no fallocate: ramfs, some network filesystems).
 */
enum cposix_space_mode {
    CPOSIX_SPACE_RESERVE_BEYOND_END, /* FALLOC_FL_KEEP_SIZE: allocate blocks, the length stays */
    CPOSIX_SPACE_EXTEND,             /* mode 0: allocate and raise the length to offset + length, never lower it */
    CPOSIX_SPACE_RELEASE,            /* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE: free the blocks, the length stays */
};
int cposix_fallocate(int fd, enum cposix_space_mode mode, int64_t offset, int64_t length);

/* ---- GNU byte search ----------------------------------------------------------------------- */

/* glibc's memmem and memrchr, which the Glibc module does not export (they need _GNU_SOURCE). */
void *cposix_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);
void *cposix_memrchr(const void *bytes, int byte, size_t length);

/* ---- Sockets ------------------------------------------------------------------------------- */

/* 1 when the peer of socket fd closed its side (POLLRDHUP, POLLHUP or an error), without blocking. */
int cposix_peer_closed(int fd);

/*
 * How far a TCP socket's sending has got, and whether its peer is still there. Needs Linux
 * headers that clash with the ones Swift's Glibc module imports.
 */
struct cposix_send_progress {
    uint64_t acknowledged;  /* bytes the peer has acknowledged (tcpi_bytes_acked) */
    uint64_t queued;        /* bytes still queued, unsent or unacknowledged (SIOCOUTQ) */
    int peer_closed;        /* the peer sent its FIN (CLOSE_WAIT, LAST_ACK, CLOSING) */
    int gone;               /* the connection is over (TCP_CLOSE): reset, or closed by both sides */
};
/* Fills `progress`; returns 0, or -1 with errno set (not a TCP socket). */
int cposix_socket_send_progress(int fd, struct cposix_send_progress *progress);

/* ---- Stop signals ------------------------------------------------------------------------- */

/*
 * SIGINT and SIGTERM become a byte on a pipe that cposix_stop_signals_wait() reads: whichever
 * thread the kernel picks to take the signal, the main thread learns of it, and nothing but
 * write() runs in signal context. Also ignores SIGPIPE.
 */
int cposix_stop_signals_install(void);
/* Blocks until a stop signal arrives; returns its number. */
int cposix_stop_signals_wait(void);

/* ---- Memory fault guard -------------------------------------------------------------------- */

/*
 * Reading a mapping whose file was truncated raises SIGBUS. cposix_fault_guard_install() (once per
 * process) installs a handler that, when the faulting thread is inside cposix_fault_guard_call,
 * jumps back to it (sigsetjmp per call, per thread) so the call returns -1 instead of the process
 * dying. A SIGBUS outside a guarded call is not ours: the default action is restored and the
 * fault repeats fatally, as it would without us.
 *
 * Trade-off: siglongjmp skips whatever the body was doing. Bodies must therefore only read or
 * write mapped memory and plain local state: no locks, no reference-counted objects held across
 * the access. Kernel-side copies (send/sendmsg from a mapping) never raise SIGBUS; they fail with
 * EFAULT and need no guard.
 */
int cposix_fault_guard_install(void);
int cposix_fault_guard_call(void (*body)(void *context), void *context);
/* memcpy under the guard, for callers that cannot build a closure cheaply (a content reader on a
   network thread): 0, or -1 when the source's pages are gone (the copy is then partial). */
int cposix_guarded_copy(void *destination, const void *source, size_t count);

/* ---- Interruptible calls ------------------------------------------------------------------- */

/*
 * A CPU-bound call that cannot check a deadline itself (one pcre2_jit_match: lookaheads and
 * backreferences do unbounded work without moving PCRE2's counters) is stopped from outside:
 * cposix_interruptible_call runs body under a fault-guard frame (SIGBUS returns -1, as in
 * cposix_fault_guard_call) that also answers an interrupt signal. Another thread raises *level
 * (cposix_interrupt_level_raise) and then signals the calling thread (cposix_interrupt_thread);
 * once *level >= threshold, the handler jumps out and the call returns -2. A call whose level is
 * already raised returns -2 without running body. The same restrictions as for fault-guarded
 * bodies apply, and more strictly: body must not allocate or take locks at all (PCRE2's JIT
 * matcher with its own JIT stack does neither), since it may be abandoned at any instruction.
 */
int cposix_interrupt_install(void);
int cposix_interruptible_call(void (*body)(void *context), void *context, const int *level, int threshold);
void cposix_interrupt_level_raise(int *level, int value);
int cposix_interrupt_level(const int *level);
int cposix_interrupt_thread(pthread_t thread);
/* Worker threads (libdispatch's) block signals: a registered thread unblocks the interrupt signal
   for the time it is registered, then restores its mask. */
int cposix_interrupt_accept(sigset_t *previous);
int cposix_interrupt_restore(const sigset_t *previous);

#endif
