/*
 * The SIGBUS fault guard and interruptible calls (see CPOSIXShim.h). They share one per-thread
 * frame chain: an interruptible call is a fault-guarded call that also answers the interrupt.
 */
#define _GNU_SOURCE
#include "CPOSIXShim.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

/* ---- Memory fault guard -------------------------------------------------------------------- */

struct cposix_guard_frame {
    sigjmp_buf resume;
    struct cposix_guard_frame *outer;
};

/* initial-exec TLS: reading it from a signal handler must not allocate. */
static __thread struct cposix_guard_frame *cposix_guard_current __attribute__((tls_model("initial-exec")));

static void cposix_on_sigbus(int signal_number, siginfo_t *info, void *context) {
    (void)info;
    (void)context;
    struct cposix_guard_frame *frame = cposix_guard_current;
    if (frame != NULL) {
        cposix_guard_current = frame->outer;
        siglongjmp(frame->resume, 1);
    }
    /* Not inside a guarded call: let the fault kill the process as it would have. */
    signal(signal_number, SIG_DFL);
}

int cposix_fault_guard_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = cposix_on_sigbus;
    /* SA_NODEFER: SIGBUS stays unblocked after the jump, so sigsetjmp need not save the mask (a
       syscall per guarded call otherwise). */
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGBUS, &action, NULL);
}

int cposix_fault_guard_call(void (*body)(void *context), void *context) {
    struct cposix_guard_frame frame;
    frame.outer = cposix_guard_current;
    if (sigsetjmp(frame.resume, 0) != 0) {
        return -1;
    }
    cposix_guard_current = &frame;
    body(context);
    cposix_guard_current = frame.outer;
    return 0;
}

struct cposix_copy {
    void *destination;
    const void *source;
    size_t count;
};

static void cposix_copy_body(void *context) {
    struct cposix_copy *copy = context;
    memcpy(copy->destination, copy->source, copy->count);
}

int cposix_guarded_copy(void *destination, const void *source, size_t count) {
    struct cposix_copy copy = {destination, source, count};
    return cposix_fault_guard_call(cposix_copy_body, &copy);
}

/* ---- Interruptible calls ------------------------------------------------------------------- */

/* The interrupt frame of the call the thread is in, if any. initial-exec TLS, as above. */
struct cposix_interrupt_frame {
    struct cposix_guard_frame *guard;
    const int *level;
    int threshold;
};
static __thread struct cposix_interrupt_frame *cposix_interrupt_current __attribute__((tls_model("initial-exec")));
static int cposix_interrupt_signal_number;

/* Jumps out only when the thread is inside an interruptible call whose level reached its
   threshold; a signal that arrives between calls, or for another call, is ignored. */
static void cposix_on_interrupt(int signal_number, siginfo_t *info, void *context) {
    (void)signal_number;
    (void)info;
    (void)context;
    struct cposix_interrupt_frame *frame = cposix_interrupt_current;
    if (frame != NULL && __atomic_load_n(frame->level, __ATOMIC_SEQ_CST) >= frame->threshold) {
        cposix_guard_current = frame->guard->outer;
        siglongjmp(frame->guard->resume, 2);
    }
}

int cposix_interrupt_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = cposix_on_interrupt;
    /* SA_RESTART: a signal that lands outside a call (a race the handler ignores) must not make
       an unrelated system call fail with EINTR. SA_NODEFER: as for SIGBUS, no mask to restore. */
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
    sigemptyset(&action.sa_mask);
    cposix_interrupt_signal_number = SIGRTMIN + 1;
    return sigaction(cposix_interrupt_signal_number, &action, NULL);
}

int cposix_interruptible_call(void (*body)(void *context), void *context, const int *level, int threshold) {
    struct cposix_guard_frame frame;
    struct cposix_interrupt_frame interrupt = {.guard = &frame, .level = level, .threshold = threshold};
    struct cposix_interrupt_frame *outer_interrupt = cposix_interrupt_current;
    frame.outer = cposix_guard_current;
    int jumped = sigsetjmp(frame.resume, 0);
    if (jumped != 0) {
        cposix_interrupt_current = outer_interrupt;
        return jumped == 2 ? -2 : -1;
    }
    cposix_guard_current = &frame;
    cposix_interrupt_current = &interrupt;
    /* A level raised before the frame was visible to the handler is seen here instead. */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(level, __ATOMIC_SEQ_CST) >= threshold) {
        cposix_interrupt_current = outer_interrupt;
        cposix_guard_current = frame.outer;
        return -2;
    }
    body(context);
    cposix_interrupt_current = outer_interrupt;
    cposix_guard_current = frame.outer;
    return 0;
}

void cposix_interrupt_level_raise(int *level, int value) {
    int current = __atomic_load_n(level, __ATOMIC_SEQ_CST);
    while (current < value && !__atomic_compare_exchange_n(level, &current, value, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
}

int cposix_interrupt_level(const int *level) { return __atomic_load_n(level, __ATOMIC_SEQ_CST); }

int cposix_interrupt_thread(pthread_t thread) { return pthread_kill(thread, cposix_interrupt_signal_number); }

int cposix_interrupt_accept(sigset_t *previous) {
    sigset_t accepted;
    sigemptyset(&accepted);
    sigaddset(&accepted, cposix_interrupt_signal_number);
    return pthread_sigmask(SIG_UNBLOCK, &accepted, previous);
}

int cposix_interrupt_restore(const sigset_t *previous) { return pthread_sigmask(SIG_SETMASK, previous, NULL); }
