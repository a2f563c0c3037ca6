// Linux calls the I/O threads need that Swift's Glibc module does not expose
// (eventfd, epoll with a nanosecond timeout, per-thread timer slack, SCHED_FIFO,
// stdout buffering).
#ifndef TTFA_CPOSIX_SHIM_H
#define TTFA_CPOSIX_SHIM_H

// No _GNU_SOURCE: with it, <sys/epoll.h> (through <sys/select.h>) defines fd_set otherwise than
// SwiftGlibc does, and a fresh build fails on the clash. The one GNU call needed is declared below.
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

/// A non-blocking, close-on-exec eventfd, or -1.
static inline int ttfa_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

/// Sets the calling thread's timer slack (nanoseconds).
static inline int ttfa_set_timer_slack(unsigned long ns) { return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0); }

/// Line-buffers stdout, so machine output reaches a pipe line by line.
static inline void ttfa_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/// glibc 2.35+ (Debian 12 has 2.36), declared by <sys/epoll.h> only under _GNU_SOURCE.
extern int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout, const sigset_t *sigmask);

/// A close-on-exec epoll instance, or -1.
static inline int ttfa_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

/// Adds (op 1), modifies (3) or removes (2) `fd` with `events`; the event carries the fd back.
static inline int ttfa_epoll_ctl(int epfd, int op, int fd, uint32_t events) {
    struct epoll_event ev = { .events = events, .data = { .fd = fd } };
    return epoll_ctl(epfd, op, fd, &ev);
}

/// Waits up to `timeout_ns` (negative: forever) with nanosecond precision (epoll_pwait2, Linux
/// 5.11; older kernels: epoll_wait rounded up to the millisecond). Fills `fds` and `events`
/// (struct epoll_event is packed on x86-64, so Swift never sees it). Returns the count or -1.
static inline int ttfa_epoll_wait_ns(int epfd, int *fds, uint32_t *events, int max, int64_t timeout_ns) {
    struct epoll_event list[256];
    if (max > 256) max = 256;
    int n;
    if (timeout_ns < 0) {
        n = epoll_wait(epfd, list, max, -1);
    } else {
        struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
        n = epoll_pwait2(epfd, list, max, &ts, NULL);
        if (n < 0 && errno == ENOSYS) n = epoll_wait(epfd, list, max, (int)((timeout_ns + 999999) / 1000000));
    }
    for (int i = 0; i < n; i++) { fds[i] = list[i].data.fd; events[i] = list[i].events; }
    return n;
}

/// Makes the calling thread SCHED_FIFO at `priority` (needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO
/// allowance); returns 0 or the error number.
static inline int ttfa_set_realtime(int priority) {
    struct sched_param param = { .sched_priority = priority };
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
}
#endif
