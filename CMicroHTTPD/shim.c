#define _GNU_SOURCE
#include "CMicroHTTPD.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- Daemon start -------------------------------------------------------------------------- */

/* libmicrohttpd hands its logger a format and a va_list, which Swift cannot consume. */
static void cmhd_log_trampoline(void *cls, const char *format, va_list arguments) {
    const struct cmhd_log_target *target = cls;
    char line[1024];
    vsnprintf(line, sizeof line, format, arguments);
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) line[--length] = 0;
    target->sink(target->context, line);
}

struct MHD_Daemon *cmhd_start_daemon(const struct cmhd_daemon_config *config,
                                     MHD_AccessHandlerCallback access, void *access_context,
                                     MHD_RequestCompletedCallback completed, void *completed_context,
                                     void *(*uri_log)(void *, const char *, struct MHD_Connection *),
                                     void *uri_log_context,
                                     MHD_NotifyConnectionCallback connection_notify,
                                     void *connection_notify_context,
                                     const struct cmhd_log_target *log,
                                     char *error, size_t error_capacity) {
    struct sockaddr_storage address;
    memset(&address, 0, sizeof address);
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG
                         | MHD_USE_TURBO;
    if (config->host != NULL && config->host[0] != 0) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *found = NULL;
        int status = getaddrinfo(config->host, NULL, &hints, &found);
        if (status != 0 || found == NULL) {
            snprintf(error, error_capacity, "cannot resolve host '%s': %s", config->host, gai_strerror(status));
            return NULL;
        }
        memcpy(&address, found->ai_addr, found->ai_addrlen);
        freeaddrinfo(found);
    } else {
        address.ss_family = AF_INET;
    }
    if (address.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
        ((struct sockaddr_in6 *)&address)->sin6_port = htons(config->port);
    } else {
        ((struct sockaddr_in *)&address)->sin_port = htons(config->port);
    }

    struct MHD_OptionItem options[24];
    unsigned int count = 0;
#define CMHD_OPTION(name, value, pointer) \
    options[count++] = (struct MHD_OptionItem){(name), (intptr_t)(value), (void *)(pointer)}
    /* The logger first: libmicrohttpd reports problems with later options through it. */
    CMHD_OPTION(MHD_OPTION_EXTERNAL_LOGGER, cmhd_log_trampoline, log);
    CMHD_OPTION(MHD_OPTION_SOCK_ADDR, 0, &address);
    CMHD_OPTION(MHD_OPTION_NOTIFY_COMPLETED, completed, completed_context);
    CMHD_OPTION(MHD_OPTION_URI_LOG_CALLBACK, uri_log, uri_log_context);
    CMHD_OPTION(MHD_OPTION_NOTIFY_CONNECTION, connection_notify, connection_notify_context);
    if (config->thread_pool_size > 1) CMHD_OPTION(MHD_OPTION_THREAD_POOL_SIZE, config->thread_pool_size, NULL);
    if (config->connection_limit) CMHD_OPTION(MHD_OPTION_CONNECTION_LIMIT, config->connection_limit, NULL);
    if (config->per_ip_connection_limit)
        CMHD_OPTION(MHD_OPTION_PER_IP_CONNECTION_LIMIT, config->per_ip_connection_limit, NULL);
    if (config->connection_timeout_seconds)
        CMHD_OPTION(MHD_OPTION_CONNECTION_TIMEOUT, config->connection_timeout_seconds, NULL);
    if (config->connection_memory_limit)
        CMHD_OPTION(MHD_OPTION_CONNECTION_MEMORY_LIMIT, config->connection_memory_limit, NULL);
    if (config->listen_backlog) CMHD_OPTION(MHD_OPTION_LISTEN_BACKLOG_SIZE, config->listen_backlog, NULL);
    if (config->tls_cert_pem != NULL) {
        flags |= MHD_USE_TLS;
        CMHD_OPTION(MHD_OPTION_HTTPS_MEM_CERT, 0, config->tls_cert_pem);
        CMHD_OPTION(MHD_OPTION_HTTPS_MEM_KEY, 0, config->tls_key_pem);
        CMHD_OPTION(MHD_OPTION_HTTPS_PRIORITIES, 0, config->tls_priorities);
    }
    CMHD_OPTION(MHD_OPTION_END, 0, NULL);
#undef CMHD_OPTION

    struct MHD_Daemon *daemon = MHD_start_daemon(flags, config->port, NULL, NULL, access, access_context,
                                                 MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (daemon == NULL) {
        snprintf(error, error_capacity, "cannot listen on %s port %u (address in use, bad address or limits)",
                 config->host ? config->host : "*", (unsigned)config->port);
    }
    return daemon;
}

uint16_t cmhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

int cmhd_client_address(struct MHD_Connection *connection, char *text, size_t capacity) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return -1;
    socklen_t length = info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    return getnameinfo(info->client_addr, length, text, (socklen_t)capacity, NULL, 0, NI_NUMERICHOST) == 0 ? 0 : -1;
}

int cmhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

int cmhd_socket_send_progress(int fd, uint64_t *acknowledged, int *queued) {
    struct tcp_info info;
    socklen_t length = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    *acknowledged = info.tcpi_bytes_acked;
    return ioctl(fd, SIOCOUTQ, queued);
}

void *cmhd_connection_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* ---- Confined open ------------------------------------------------------------------------- */

int cmhd_open_beneath(int dirfd, const char *path, int flags) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int cmhd_stat_beneath(int dirfd, const char *path, struct stat *status) {
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

/* ---- Space for writes ---------------------------------------------------------------------- */

int cmhd_fallocate(int fd, enum cmhd_space_mode mode, int64_t offset, int64_t length) {
    int flags = 0;
    switch (mode) {
    case CMHD_SPACE_RESERVE_BEYOND_END: flags = FALLOC_FL_KEEP_SIZE; break;
    case CMHD_SPACE_EXTEND: flags = 0; break;
    case CMHD_SPACE_RELEASE: flags = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE; break;
    }
    return fallocate(fd, flags, (off_t)offset, (off_t)length);
}

/* ---- Stop signals ------------------------------------------------------------------------- */

static int cmhd_stop_pipe[2] = {-1, -1};

/* Async-signal-safe: one write to a pipe the main thread waits on. */
static void cmhd_on_stop_signal(int signal_number) {
    unsigned char byte = (unsigned char)signal_number;
    int saved = errno;
    (void)!write(cmhd_stop_pipe[1], &byte, 1);
    errno = saved;
}

int cmhd_stop_signals_install(void) {
    if (pipe2(cmhd_stop_pipe, O_CLOEXEC) != 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cmhd_on_stop_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int cmhd_stop_signals_wait(void) {
    unsigned char byte = 0;
    while (read(cmhd_stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {}
    return byte;
}

/* ---- Memory fault guard -------------------------------------------------------------------- */

struct cmhd_guard_frame {
    sigjmp_buf resume;
    struct cmhd_guard_frame *outer;
};

/* initial-exec TLS: reading it from a signal handler must not allocate. */
static __thread struct cmhd_guard_frame *cmhd_guard_current __attribute__((tls_model("initial-exec")));

static void cmhd_on_sigbus(int signal_number, siginfo_t *info, void *context) {
    (void)info;
    (void)context;
    struct cmhd_guard_frame *frame = cmhd_guard_current;
    if (frame != NULL) {
        cmhd_guard_current = frame->outer;
        siglongjmp(frame->resume, 1);
    }
    /* Not inside a guarded call: let the fault kill the process as it would have. */
    signal(signal_number, SIG_DFL);
}

int cmhd_fault_guard_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = cmhd_on_sigbus;
    /* SA_NODEFER: SIGBUS stays unblocked after the jump, so sigsetjmp need not save the mask (a
       syscall per guarded call otherwise). */
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGBUS, &action, NULL);
}

int cmhd_fault_guard_call(void (*body)(void *context), void *context) {
    struct cmhd_guard_frame frame;
    frame.outer = cmhd_guard_current;
    if (sigsetjmp(frame.resume, 0) != 0) {
        return -1;
    }
    cmhd_guard_current = &frame;
    body(context);
    cmhd_guard_current = frame.outer;
    return 0;
}

/* ---- Interruptible calls ------------------------------------------------------------------- */

/* The interrupt frame of the call the thread is in, if any. initial-exec TLS, as above. */
struct cmhd_interrupt_frame {
    struct cmhd_guard_frame *guard;
    const int *level;
    int threshold;
};
static __thread struct cmhd_interrupt_frame *cmhd_interrupt_current __attribute__((tls_model("initial-exec")));
static int cmhd_interrupt_signal_number;

/* Jumps out only when the thread is inside an interruptible call whose level reached its
   threshold; a signal that arrives between calls, or for another call, is ignored. */
static void cmhd_on_interrupt(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number;
    (void)info;
    (void)context;
    struct cmhd_interrupt_frame *frame = cmhd_interrupt_current;
    if (frame != NULL && __atomic_load_n(frame->level, __ATOMIC_SEQ_CST) >= frame->threshold) {
        cmhd_guard_current = frame->guard->outer;
        siglongjmp(frame->guard->resume, 2);
    }
}

int cmhd_interrupt_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = cmhd_on_interrupt;
    /* SA_RESTART: a signal that lands outside a call (a race the handler ignores) must not make
       an unrelated system call fail with EINTR. SA_NODEFER: as for SIGBUS, no mask to restore. */
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
    sigemptyset(&action.sa_mask);
    cmhd_interrupt_signal_number = SIGRTMIN + 1;
    return sigaction(cmhd_interrupt_signal_number, &action, NULL);
}

int cmhd_interruptible_call(void (*body)(void *context), void *context, const int *level, int threshold) {
    struct cmhd_guard_frame frame;
    struct cmhd_interrupt_frame interrupt = {.guard = &frame, .level = level, .threshold = threshold};
    struct cmhd_interrupt_frame *outer_interrupt = cmhd_interrupt_current;
    frame.outer = cmhd_guard_current;
    int jumped = sigsetjmp(frame.resume, 0);
    if (jumped != 0) {
        cmhd_interrupt_current = outer_interrupt;
        return jumped == 2 ? -2 : -1;
    }
    cmhd_guard_current = &frame;
    cmhd_interrupt_current = &interrupt;
    /* A level raised before the frame was visible to the handler is seen here instead. */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(level, __ATOMIC_SEQ_CST) >= threshold) {
        cmhd_interrupt_current = outer_interrupt;
        cmhd_guard_current = frame.outer;
        return -2;
    }
    body(context);
    cmhd_interrupt_current = outer_interrupt;
    cmhd_guard_current = frame.outer;
    return 0;
}

void cmhd_interrupt_level_raise(int *level, int value) {
    int current = __atomic_load_n(level, __ATOMIC_SEQ_CST);
    while (current < value && !__atomic_compare_exchange_n(level, &current, value, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
}

int cmhd_interrupt_level(const int *level) { return __atomic_load_n(level, __ATOMIC_SEQ_CST); }

int cmhd_interrupt_thread(pthread_t thread) { return pthread_kill(thread, cmhd_interrupt_signal_number); }

/* ---- Peer departure ------------------------------------------------------------------------ */

#include <poll.h>

int cmhd_peer_closed(int fd) {
    struct pollfd entry = {.fd = fd, .events = POLLRDHUP, .revents = 0};
    if (poll(&entry, 1, 0) != 1) return 0;
    return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

int cmhd_interrupt_accept(sigset_t *previous) {
    sigset_t accepted;
    sigemptyset(&accepted);
    sigaddset(&accepted, cmhd_interrupt_signal_number);
    return pthread_sigmask(SIG_UNBLOCK, &accepted, previous);
}

int cmhd_interrupt_restore(const sigset_t *previous) { return pthread_sigmask(SIG_SETMASK, previous, NULL); }
