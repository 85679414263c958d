/*
 * How a tree search should get at a small file: pread into a reused buffer, or mmap + munmap.
 * Each way opens the file, fstats it, gets its bytes and passes over them once (memchr for a
 * byte that is absent, as a literal scan touches every byte), then closes it. For each size from
 * 2 KiB to 4 MiB it writes (once) enough files to make about 256 MiB (at most 4,000), reads them
 * once to warm the page cache, then times ROUNDS passes of each way in ABBA order and prints the
 * median and range of the per-round map/read time ratio (above 1: pread is faster).
 * TreeFileSearch.readLimit was chosen with it (docs/SEARCH.md, "Tree search").
 *
 * build: cc -O2 -pthread -o read_or_map Benchmarks/read_or_map.c
 * usage: read_or_map DIR ROUNDS THREADS   (DIR: scratch space, ~2.5 GB; THREADS: the cores a search uses)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int thread_count = 1;
static volatile long sink;

struct pass { const char *dir; int files; int mapped; int first; };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *worker(void *argument) {
  const struct pass *pass = argument;
  char *buffer = malloc(4 << 20);
  char path[4200];
  for (int i = pass->first; i < pass->files; i += thread_count) {
    snprintf(path, sizeof path, "%s/f%05d", pass->dir, i);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { perror(path); exit(1); }
    size_t size = (size_t)st.st_size;
    if (pass->mapped) {
      void *bytes = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
      close(fd);
      sink += (long)memchr(bytes, 0xff, size);
      munmap(bytes, size);
    } else {
      size_t count = 0;
      while (count < size) {
        ssize_t got = pread(fd, buffer + count, size - count, (off_t)count);
        if (got <= 0) break;
        count += (size_t)got;
      }
      close(fd);
      sink += (long)memchr(buffer, 0xff, count);
    }
  }
  free(buffer);
  return NULL;
}

static double timed(const char *dir, int files, int mapped) {
  pthread_t threads[64];
  struct pass passes[64];
  double started = now();
  for (int t = 0; t < thread_count; t++) {
    passes[t] = (struct pass){dir, files, mapped, t};
    pthread_create(&threads[t], NULL, worker, &passes[t]);
  }
  for (int t = 0; t < thread_count; t++) pthread_join(threads[t], NULL);
  return now() - started;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s DIR ROUNDS THREADS\n", argv[0]); return 2; }
  int rounds = atoi(argv[2]);
  thread_count = atoi(argv[3]);
  if (rounds < 1 || rounds > 64 || thread_count < 1 || thread_count > 64) { fprintf(stderr, "1-64 rounds and threads\n"); return 2; }
  const size_t sizes[] = {2 << 10, 8 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20, 4 << 20};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t size = sizes[k];
    int files = (int)((256u << 20) / size);
    if (files > 4000) files = 4000;
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/s%zu", argv[1], size);
    mkdir(dir, 0755);
    char *data = malloc(size);
    memset(data, 'a', size);
    for (int i = 0; i < files; i++) {
      snprintf(path, sizeof path, "%s/f%05d", dir, i);
      struct stat st;
      if (stat(path, &st) == 0 && (size_t)st.st_size == size) continue;
      int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
      if (fd < 0 || write(fd, data, size) != (ssize_t)size) { perror(path); return 1; }
      close(fd);
    }
    free(data);
    timed(dir, files, 0);
    timed(dir, files, 1);
    double ratios[64], read_total = 0, map_total = 0;
    for (int r = 0; r < rounds; r++) {
      double read, map;
      if (r % 2 == 0) { read = timed(dir, files, 0); map = timed(dir, files, 1); }
      else { map = timed(dir, files, 1); read = timed(dir, files, 0); }
      ratios[r] = map / read;
      read_total += read;
      map_total += map;
    }
    qsort(ratios, (size_t)rounds, sizeof ratios[0], compare);
    printf("%8zu B x %4d files, %d thread(s): read %.1f us/file, map %.1f us/file; map/read per round %.2f [%.2f-%.2f]\n",
           size, files, thread_count, read_total / rounds / files * 1e6, map_total / rounds / files * 1e6,
           ratios[rounds / 2], ratios[0], ratios[rounds - 1]);
    fflush(stdout);
  }
  return 0;
}
