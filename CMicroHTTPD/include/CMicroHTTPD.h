/*
 * CMicroHTTPD: libmicrohttpd's C face, for what Swift cannot express (a variadic daemon start and
 * connection query, a va_list logger) and the GnuTLS check of HTTPS credentials. Only MicroHTTP
 * imports it; POSIX and Linux calls that know nothing of HTTP live in CPOSIXShim. No business
 * logic lives here; every symbol carries the cmhd_ prefix but recv, which request_line.c defines
 * to see what libmicrohttpd receives.
 */
#ifndef CMICROHTTPD_H
#define CMICROHTTPD_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
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

/* What the connection-notify callback stored in its socket context, or NULL. */
void *cmhd_connection_context(struct MHD_Connection *connection);

/*
 * A connection's first request line is watched for a leading NUL, which libmicrohttpd would drop
 * as an empty line (see request_line.c): watch when the connection opens, unwatch when it closes.
 */
void cmhd_request_line_watch(int fd);
void cmhd_request_line_unwatch(int fd);

#endif
