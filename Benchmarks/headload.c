/*
 * headload: a closed-loop keep-alive load generator for bodiless answers (HEAD, 304), because
 * wrk 4.1 cannot benchmark HEAD, nor a 304 that carries a Content-Length (legal, RFC 9110 §8.6): its http_parser is never told a response to HEAD has no body and
 * waits for the Content-Length bytes forever (github.com/wg/wrk/issues/198).
 *
 *   headload HOST PORT METHOD PATH THREADS CONNECTIONS SECONDS [HEADER...]
 *
 * Each thread owns CONNECTIONS/THREADS connections on one epoll set; every connection sends a
 * request, reads until the blank line that ends the response head, records the latency and
 * sends the next. Answers to HEAD and 1xx/204/304 answers have no body whatever their
 * Content-Length says (RFC 9112 §6.3; wrk's parser also hangs on a 304 that carries one). Any
 * other answer with a body, or a status >= 400, counts as a status error. Prints one line in the
 * format of wrk/report.lua.
 * Built on the fly by bench.py with `cc -O2 -pthread`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUFFER = 16384 };

struct connection {
    int fd;
    int connecting;
    size_t length;
    uint64_t started;
    char buffer[BUFFER];
};

struct worker {
    pthread_t thread;
    int connections;
    uint64_t requests, bytes;
    uint64_t err_connect, err_read, err_write, err_status, err_timeout;
    uint32_t *samples;
    size_t count, capacity;
};

static struct sockaddr_in address;
static char request[8192];
static size_t request_length;
static uint64_t deadline;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void record(struct worker *w, uint64_t nanoseconds) {
    if (w->count == w->capacity) {
        w->capacity = w->capacity ? w->capacity * 2 : 65536;
        w->samples = realloc(w->samples, w->capacity * sizeof *w->samples);
        if (!w->samples) { perror("realloc"); exit(1); }
    }
    w->samples[w->count++] = (uint32_t)(nanoseconds / 1000);
}

static int open_connection(int epoll, struct connection *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->connecting = 1;
    c->length = 0;
    struct epoll_event event = { .events = EPOLLOUT, .data.ptr = c };
    return epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
}

static int send_request(struct worker *w, struct connection *c) {
    c->started = now_ns();
    ssize_t n = write(c->fd, request, request_length);
    if (n != (ssize_t)request_length) { w->err_write++; return -1; }
    return 0;
}

/* Returns the status code when the buffer holds a whole response head, 0 when not yet. */
static int complete_head(struct connection *c, long *content_length) {
    char *end = memmem(c->buffer, c->length, "\r\n\r\n", 4);
    if (!end) return 0;
    *content_length = -1;
    for (char *line = c->buffer; line && line < end; ) {
        if (strncasecmp(line, "content-length:", 15) == 0) *content_length = strtol(line + 15, NULL, 10);
        line = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (line) line += 2;
    }
    int status = 0;
    if (c->length > 12 && memcmp(c->buffer, "HTTP/1.", 7) == 0) status = atoi(c->buffer + 9);
    return status ? status : -1;
}

static void reconnect(int epoll, struct worker *w, struct connection *c) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (open_connection(epoll, c) < 0) w->err_connect++;
}

static void *run(void *argument) {
    struct worker *w = argument;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct connection *connections = calloc((size_t)w->connections, sizeof *connections);
    if (epoll < 0 || !connections) { perror("setup"); exit(1); }
    int head_request = strncmp(request, "HEAD ", 5) == 0;
    for (int i = 0; i < w->connections; i++)
        if (open_connection(epoll, &connections[i]) < 0) w->err_connect++;
    struct epoll_event events[256];
    while (now_ns() < deadline) {
        int ready = epoll_wait(epoll, events, 256, 50);
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            if (c->connecting) {
                int error = 0;
                socklen_t size = sizeof error;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &size);
                if (error) { w->err_connect++; reconnect(epoll, w, c); continue; }
                c->connecting = 0;
                struct epoll_event event = { .events = EPOLLIN, .data.ptr = c };
                epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
                if (send_request(w, c) < 0) reconnect(epoll, w, c);
                continue;
            }
            ssize_t n = read(c->fd, c->buffer + c->length, BUFFER - c->length);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                w->err_read++;
                reconnect(epoll, w, c);
                continue;
            }
            c->length += (size_t)n;
            long content_length;
            int status = complete_head(c, &content_length);
            if (status == 0) {
                if (c->length == BUFFER) { w->err_read++; reconnect(epoll, w, c); }
                continue;
            }
            uint64_t finished = now_ns();
            w->requests++;
            w->bytes += c->length;
            record(w, finished - c->started);
            c->length = 0;
            /* RFC 9112 §6.3: answers to HEAD and 1xx/204/304 answers end at the blank line whatever
             * their Content-Length says. Any other answer with a body is not what this tool
             * measures: count it as an error and start over on a fresh connection. */
            int bodiless = head_request || status == 204 || status == 304 || (status >= 100 && status < 200);
            if (status < 0 || (!bodiless && content_length != 0)) {
                w->err_status++;
                reconnect(epoll, w, c);
                continue;
            }
            if (status >= 400) w->err_status++;
            if (finished >= deadline) break;
            if (send_request(w, c) < 0) reconnect(epoll, w, c);
        }
    }
    for (int i = 0; i < w->connections; i++) close(connections[i].fd);
    close(epoll);
    free(connections);
    return NULL;
}

static int compare(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double percentile(const uint32_t *sorted, size_t count, double p) {
    if (!count) return 0;
    size_t index = (size_t)(p / 100.0 * (double)(count - 1) + 0.5);
    return sorted[index < count ? index : count - 1];
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: headload HOST PORT METHOD PATH THREADS CONNECTIONS SECONDS [HEADER...]\n");
        return 2;
    }
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) { fprintf(stderr, "bad address\n"); return 2; }
    int threads = atoi(argv[5]), connections = atoi(argv[6]);
    double seconds = atof(argv[7]);
    if (threads < 1 || connections < threads || seconds <= 0) { fprintf(stderr, "bad numbers\n"); return 2; }
    int used = snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n", argv[3], argv[4], argv[1], argv[2]);
    for (int i = 8; i < argc && used < (int)sizeof request; i++)
        used += snprintf(request + used, sizeof request - (size_t)used, "%s\r\n", argv[i]);
    used += snprintf(request + used, sizeof request - (size_t)used, "\r\n");
    if (used >= (int)sizeof request) { fprintf(stderr, "request too long\n"); return 2; }
    request_length = (size_t)used;

    struct worker *workers = calloc((size_t)threads, sizeof *workers);
    uint64_t started = now_ns();
    deadline = started + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < threads; i++) {
        workers[i].connections = connections / threads + (i < connections % threads);
        pthread_create(&workers[i].thread, NULL, run, &workers[i]);
    }
    struct worker total = {0};
    for (int i = 0; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        struct worker *w = &workers[i];
        total.requests += w->requests;
        total.bytes += w->bytes;
        total.err_connect += w->err_connect;
        total.err_read += w->err_read;
        total.err_write += w->err_write;
        total.err_status += w->err_status;
        total.capacity += w->count;
    }
    uint64_t elapsed = now_ns() - started;
    uint32_t *all = malloc((total.capacity ? total.capacity : 1) * sizeof *all);
    double sum = 0;
    for (int i = 0; i < threads; i++) {
        memcpy(all + total.count, workers[i].samples, workers[i].count * sizeof *all);
        total.count += workers[i].count;
    }
    for (size_t i = 0; i < total.count; i++) sum += all[i];
    qsort(all, total.count, sizeof *all, compare);
    printf("BENCH-RESULT requests=%llu duration_us=%llu bytes=%llu lat_mean_us=%.1f lat_p50_us=%.0f "
           "lat_p90_us=%.0f lat_p99_us=%.0f lat_p999_us=%.0f lat_max_us=%.0f err_connect=%llu "
           "err_read=%llu err_write=%llu err_status=%llu err_timeout=%llu\n",
           (unsigned long long)total.requests, (unsigned long long)(elapsed / 1000),
           (unsigned long long)total.bytes, total.count ? sum / (double)total.count : 0.0,
           percentile(all, total.count, 50), percentile(all, total.count, 90),
           percentile(all, total.count, 99), percentile(all, total.count, 99.9),
           total.count ? (double)all[total.count - 1] : 0.0,
           (unsigned long long)total.err_connect, (unsigned long long)total.err_read,
           (unsigned long long)total.err_write, (unsigned long long)total.err_status, 0ULL);
    return 0;
}
