/*
 * The ceiling: what libmicrohttpd itself reaches on this machine when a request costs nothing
 * but the library's own work. Benchmarks/run starts it beside nginx and mmapd when
 * BENCH_CEILING=1, so that "how far is mmapd from libmicrohttpd" is measured in the same run as
 * "how far is mmapd from nginx" (issue 6's table has both columns).
 *
 * It is deliberately not a server anyone should use: the files are mapped once at start and never
 * revalidated, only `bytes=first-last` single ranges and an exact If-None-Match are understood,
 * nothing is logged or counted, and paths are matched by string comparison. Each of those is work
 * mmapd does per request and this program skips. Same libmicrohttpd mode as mmapd: epoll, one
 * internal thread per core, MHD_USE_TURBO, the same per-connection memory.
 *
 * usage: ceiling ROOT PORT THREADS MEMORY_LIMIT FILE...   (serves ROOT/FILE as /files/FILE)
 *
 * With CEILING_TLS_CERT and CEILING_TLS_KEY (PEM files) in the environment it serves HTTPS through
 * libmicrohttpd's GnuTLS, with CEILING_TLS_PRIORITIES (default: mmapd's --tls-priorities
 * default), for the TLS section of the bench: what libmicrohttpd's own TLS path reaches.
 */
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct file {
  char url[256];
  const char *content_type;
  char etag[64];
  char last_modified[64];
  const char *bytes;
  unsigned long long size;
  struct MHD_Response *ok;           /* shared by every whole-file GET and HEAD */
  struct MHD_Response *not_modified; /* shared by every matching If-None-Match */
};

static struct file *files;
static int file_count;
static int second_call;

static void add_file_headers(struct MHD_Response *response, const struct file *file, int typed) {
  MHD_add_response_header(response, "ETag", file->etag);
  MHD_add_response_header(response, "Last-Modified", file->last_modified);
  MHD_add_response_header(response, "Accept-Ranges", "bytes");
  if (typed) MHD_add_response_header(response, "Content-Type", file->content_type);
}

static int load(struct file *file, const char *root, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", root, name);
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) return -1;
  file->bytes = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (file->bytes == MAP_FAILED) return -1;
  file->size = (unsigned long long)st.st_size;
  snprintf(file->url, sizeof file->url, "/files/%s", name);
  const char *dot = strrchr(name, '.');
  file->content_type = dot && strcmp(dot, ".txt") == 0 ? "text/plain" : "application/octet-stream";
  snprintf(file->etag, sizeof file->etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime, file->size);
  struct tm tm;
  strftime(file->last_modified, sizeof file->last_modified, "%a, %d %b %Y %H:%M:%S GMT",
           gmtime_r(&st.st_mtime, &tm));
  file->ok = MHD_create_response_from_buffer((size_t)file->size, (void *)file->bytes, MHD_RESPMEM_PERSISTENT);
  add_file_headers(file->ok, file, 1);
  file->not_modified = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  add_file_headers(file->not_modified, file, 0);
  return 0;
}

static enum MHD_Result answer(void *context, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **request_context) {
  (void)context; (void)method; (void)version; (void)upload; (void)upload_size;
  /* Queue on the second call, as mmapd must: libmicrohttpd 0.9.75 closes the connection after
     an answer queued on the first. */
  if (*request_context == NULL) {
    *request_context = &second_call;
    return MHD_YES;
  }
  const struct file *file = NULL;
  for (int i = 0; i < file_count; i++)
    if (strcmp(url, files[i].url) == 0) file = &files[i];
  if (file == NULL) return MHD_NO;
  const char *if_none_match = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "If-None-Match");
  if (if_none_match && strcmp(if_none_match, file->etag) == 0)
    return MHD_queue_response(connection, MHD_HTTP_NOT_MODIFIED, file->not_modified);
  const char *range = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Range");
  if (range == NULL) return MHD_queue_response(connection, MHD_HTTP_OK, file->ok);
  unsigned long long first, last;
  char rest;
  if (sscanf(range, "bytes=%llu-%llu%c", &first, &last, &rest) != 2 || last < first || last >= file->size)
    return MHD_NO; /* not a single satisfiable range: outside what the ceiling measures */
  struct MHD_Response *partial =
      MHD_create_response_from_buffer((size_t)(last - first + 1), (void *)(file->bytes + first), MHD_RESPMEM_PERSISTENT);
  if (partial == NULL) return MHD_NO;
  add_file_headers(partial, file, 1);
  char content_range[96];
  snprintf(content_range, sizeof content_range, "bytes %llu-%llu/%llu", first, last, file->size);
  MHD_add_response_header(partial, "Content-Range", content_range);
  enum MHD_Result queued = MHD_queue_response(connection, MHD_HTTP_PARTIAL_CONTENT, partial);
  MHD_destroy_response(partial);
  return queued;
}

/* A whole PEM file as a string, or NULL. */
static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  char *text = calloc(1, 1 << 16);
  size_t length = text ? fread(text, 1, (1 << 16) - 1, f) : 0;
  fclose(f);
  if (text != NULL && length == 0) {
    free(text);
    return NULL;
  }
  return text;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s ROOT PORT THREADS MEMORY_LIMIT FILE...\n", argv[0]);
    return 2;
  }
  file_count = argc - 5;
  files = calloc((size_t)file_count, sizeof *files);
  for (int i = 0; i < file_count; i++) {
    if (files == NULL || load(&files[i], argv[1], argv[5 + i]) != 0) {
      fprintf(stderr, "ceiling: cannot map %s/%s\n", argv[1], argv[5 + i]);
      return 1;
    }
  }
  /* Block the stop signals before the daemon's threads start, so that they inherit the mask. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  const char *cert_file = getenv("CEILING_TLS_CERT"), *key_file = getenv("CEILING_TLS_KEY");
  const char *priorities = getenv("CEILING_TLS_PRIORITIES");
  if (priorities == NULL)
    priorities = "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
                 "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";
  char *cert = NULL, *key = NULL;
  if (cert_file != NULL || key_file != NULL) {
    cert = cert_file ? read_text(cert_file) : NULL;
    key = key_file ? read_text(key_file) : NULL;
    if (cert == NULL || key == NULL) {
      fprintf(stderr, "ceiling: cannot read CEILING_TLS_CERT and CEILING_TLS_KEY\n");
      return 1;
    }
  }
  const unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG | (cert ? MHD_USE_TLS : 0);
  /* Without TLS the certificate options are left out: MHD_OPTION_END ends the list there. */
  struct MHD_Daemon *daemon = MHD_start_daemon(
      flags, (uint16_t)atoi(argv[2]), NULL, NULL, answer, NULL, MHD_OPTION_THREAD_POOL_SIZE,
      (unsigned int)atoi(argv[3]), MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)atol(argv[4]),
      MHD_OPTION_CONNECTION_TIMEOUT, 30u, cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
      MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_PRIORITIES, priorities, MHD_OPTION_END);
  if (daemon == NULL) {
    fprintf(stderr, "ceiling: libmicrohttpd did not start on port %s\n", argv[2]);
    return 1;
  }
  int signal_number;
  sigwait(&stop, &signal_number);
  MHD_stop_daemon(daemon);
  return 0;
}
