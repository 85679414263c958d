/* SIGINT/SIGTERM as a byte on a pipe (see CPOSIXShim.h). */
#define _GNU_SOURCE
#include "CPOSIXShim.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int cposix_stop_pipe[2] = {-1, -1};

/* Async-signal-safe: one write to a pipe the main thread waits on. */
static void cposix_on_stop_signal(int signal_number) {
    unsigned char byte = (unsigned char)signal_number;
    int saved = errno;
    (void)!write(cposix_stop_pipe[1], &byte, 1);
    errno = saved;
}

int cposix_stop_signals_install(void) {
    if (pipe2(cposix_stop_pipe, O_CLOEXEC) != 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cposix_on_stop_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int cposix_stop_signals_wait(void) {
    unsigned char byte = 0;
    while (read(cposix_stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {}
    return byte;
}
