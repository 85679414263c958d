#define _GNU_SOURCE
#include "CMicroHTTPD.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

void *cmhd_connection_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}
