/*
 * CMicroHTTPD: the only C in mmapd. Each function here exists because Swift cannot express it
 * (a variadic call, a va_list, a raw syscall wrapper, a signal handler that jumps). No business
 * logic lives here; every symbol carries the cmhd_ prefix.
 */
#ifndef CMICROHTTPD_H
#define CMICROHTTPD_H

#include <microhttpd.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* ---- Daemon start -------------------------------------------------------------------------- */

/* Everything MHD_start_daemon's variadic option list would carry; zero means MHD's default. */
struct cmhd_daemon_config {
    const char *host;                       /* numeric address or name; NULL = any */
    uint16_t port;                          /* 0 = any free port (see cmhd_bound_port) */
    unsigned int thread_pool_size;          /* worker threads, each with its own epoll */
    unsigned int connection_limit;
    unsigned int per_ip_connection_limit;
    unsigned int connection_timeout_seconds;
    size_t connection_memory_limit;         /* bytes of header/read buffer per connection */
    unsigned int listen_backlog;
    /* HTTPS when tls_cert_pem is set: NUL-terminated PEM, kept by the caller while the daemon runs. */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    const char *tls_priorities;             /* GnuTLS priority string */
};

/* Receives each line libmicrohttpd logs, already formatted (the va_list trampoline). */
typedef void (*cmhd_log_sink)(void *context, const char *message);

/*
 * Where one daemon's log lines go. The caller owns it and keeps it until MHD_stop_daemon has
 * returned: libmicrohttpd's threads read it for the daemon's whole life, and one per daemon
 * keeps several servers in a process (the tests) from sharing it.
 */
struct cmhd_log_target {
    cmhd_log_sink sink;
    void *context;
};

/*
 * Starts an epoll daemon with an internal thread pool, suspend/resume allowed. `uri_log` receives
 * the raw request-target before any decoding; its return value becomes the request's context.
 * Returns NULL on failure with a one-line reason in `error` (capacity `error_capacity`).
 */
struct MHD_Daemon *cmhd_start_daemon(const struct cmhd_daemon_config *config,
                                     MHD_AccessHandlerCallback access, void *access_context,
                                     MHD_RequestCompletedCallback completed, void *completed_context,
                                     void *(*uri_log)(void *context, const char *uri,
                                                      struct MHD_Connection *connection),
                                     void *uri_log_context,
                                     MHD_NotifyConnectionCallback connection_notify,
                                     void *connection_notify_context,
                                     const struct cmhd_log_target *log,
                                     char *error, size_t error_capacity);

/*
 * Whether libmicrohttpd has TLS, the priority string parses, the PEM certificate is current and
 * the PEM key belongs to it (GnuTLS, libmicrohttpd's own TLS library). 0, or -1 with one line in
 * `error`.
 */
int cmhd_tls_check(const char *cert_pem, const char *key_pem, const char *priorities, char *error, size_t capacity);

/* The port the daemon really listens on (the answer to port 0). */
uint16_t cmhd_bound_port(struct MHD_Daemon *daemon);

/* The client's numeric address (MHD_get_connection_info is variadic). 0 on success. */
int cmhd_client_address(struct MHD_Connection *connection, char *text, size_t capacity);

/* The connection's socket, or -1. */
int cmhd_connection_fd(struct MHD_Connection *connection);

/* 1 when the peer of socket fd closed its side (POLLRDHUP, POLLHUP or an error), without blocking. */
int cmhd_peer_closed(int fd);

/*
 * How far a TCP socket's sending has got: bytes the peer has acknowledged (tcpi_bytes_acked) and
 * bytes still queued, unsent or unacknowledged (SIOCOUTQ). Both need Linux headers that clash with
 * the ones Swift's Glibc module imports. Returns 0, or -1 with errno set.
 */
int cmhd_socket_send_progress(int fd, uint64_t *acknowledged, int *queued);

/* What the connection-notify callback stored in its socket context, or NULL. */
void *cmhd_connection_context(struct MHD_Connection *connection);

/* ---- Confined open ------------------------------------------------------------------------- */

/*
 * openat2(dirfd, path, flags | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): the kernel
 * refuses any resolution that leaves dirfd, through "..", absolute symlinks or magic links.
 * Returns the descriptor or -1 with errno set (ENOSYS on kernels before 5.6).
 */
int cmhd_open_beneath(int dirfd, const char *path, int flags);

/*
 * fstat of what path leads to, resolved like cmhd_open_beneath but opened O_PATH: nothing is
 * opened for reading, so a FIFO or device node cannot block or react, and no read permission is
 * needed. Returns 0, or -1 with errno set (EXDEV/ELOOP for a way out of dirfd, ENOENT).
 */
int cmhd_stat_beneath(int dirfd, const char *path, struct stat *status);

/* ---- Space for writes ---------------------------------------------------------------------- */

/*
 * fallocate(2), which Swift's Glibc module does not declare (it needs _GNU_SOURCE), with the
 * modes a writer uses. 0 on success, else -1 with errno set (EOPNOTSUPP where the filesystem
 * has no fallocate: ramfs, some network filesystems).
 */
enum cmhd_space_mode {
    CMHD_SPACE_RESERVE_BEYOND_END, /* FALLOC_FL_KEEP_SIZE: allocate blocks, the length stays */
    CMHD_SPACE_EXTEND,             /* mode 0: allocate and raise the length to offset + length, never lower it */
    CMHD_SPACE_RELEASE,            /* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE: free the blocks, the length stays */
};
int cmhd_fallocate(int fd, enum cmhd_space_mode mode, int64_t offset, int64_t length);

/* ---- Stop signals ------------------------------------------------------------------------- */

/*
 * SIGINT and SIGTERM become a byte on a pipe that cmhd_stop_signals_wait() reads: whichever
 * thread the kernel picks to take the signal, the main thread learns of it, and nothing but
 * write() runs in signal context. Also ignores SIGPIPE.
 */
int cmhd_stop_signals_install(void);
/* Blocks until a stop signal arrives; returns its number. */
int cmhd_stop_signals_wait(void);

/* ---- Memory fault guard -------------------------------------------------------------------- */

/*
 * Reading a mapping whose file was truncated raises SIGBUS. cmhd_fault_guard_install() (once per
 * process) installs a handler that, when the faulting thread is inside cmhd_fault_guard_call,
 * jumps back to it (sigsetjmp per call, per thread) so the call returns -1 instead of the process
 * dying. A SIGBUS outside a guarded call is not ours: the default action is restored and the
 * fault repeats fatally, as it would without us.
 *
 * Trade-off: siglongjmp skips whatever the body was doing. Bodies must therefore only read or
 * write mapped memory and plain local state: no locks, no reference-counted objects held across
 * the access. Kernel-side copies (send/sendmsg from a mapping) never raise SIGBUS; they fail with
 * EFAULT and need no guard.
 */
int cmhd_fault_guard_install(void);
int cmhd_fault_guard_call(void (*body)(void *context), void *context);

/* ---- Interruptible calls ------------------------------------------------------------------- */

/*
 * A CPU-bound call that cannot check a deadline itself (one pcre2_jit_match: lookaheads and
 * backreferences do unbounded work without moving PCRE2's counters) is stopped from outside:
 * cmhd_interruptible_call runs body under a fault-guard frame (SIGBUS returns -1, as in
 * cmhd_fault_guard_call) that also answers an interrupt signal. Another thread raises *level
 * (cmhd_interrupt_level_raise) and then signals the calling thread (cmhd_interrupt_thread); once
 * *level >= threshold, the handler jumps out and the call returns -2. A call whose level is
 * already raised returns -2 without running body. The same restrictions as for fault-guarded
 * bodies apply, and more strictly: body must not allocate or take locks at all (PCRE2's JIT
 * matcher with its own JIT stack does neither), since it may be abandoned at any instruction.
 */
int cmhd_interrupt_install(void);
int cmhd_interruptible_call(void (*body)(void *context), void *context, const int *level, int threshold);
void cmhd_interrupt_level_raise(int *level, int value);
int cmhd_interrupt_level(const int *level);
int cmhd_interrupt_thread(pthread_t thread);
/* Worker threads (libdispatch's) block signals: a registered thread unblocks the interrupt signal
   for the time it is registered, then restores its mask. */
int cmhd_interrupt_accept(sigset_t *previous);
int cmhd_interrupt_restore(const sigset_t *previous);

#endif
