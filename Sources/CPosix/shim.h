// Linux calls the I/O threads need that Swift's Glibc module does not expose
// (eventfd, ppoll with a nanosecond timeout, per-thread timer slack, stdout buffering).
#ifndef TTFA_CPOSIX_SHIM_H
#define TTFA_CPOSIX_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

/// A non-blocking, close-on-exec eventfd, or -1.
static inline int ttfa_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// ppoll with a relative timeout in nanoseconds (negative: wait forever).
static inline int ttfa_ppoll(struct pollfd *fds, unsigned long n, int64_t timeout_ns) {
    if (timeout_ns < 0) return ppoll(fds, n, NULL, NULL);
    struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
    return ppoll(fds, n, &ts, NULL);
}

/// Sets the calling thread's timer slack (nanoseconds).
static inline int ttfa_set_timer_slack(unsigned long ns) { return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0); }

/// Line-buffers stdout, so machine output reaches a pipe line by line.
static inline void ttfa_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

#endif
