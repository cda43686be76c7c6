/* LD_PRELOAD shim for the hardening tests: interrupts every thread of the
 * process with a signal about every millisecond, so that every blocking call
 * the tools make (read, write, poll, waitpid, nanosleep, sem_wait, ...) sees
 * EINTR sooner or later. The handler is installed without SA_RESTART, so even
 * calls the kernel would restart return EINTR.
 *
 * A process-directed timer signal lands almost always in the main thread, so
 * instead a helper thread sends the signal to each thread in turn with
 * tgkill() (threads that block it are simply not interrupted, which is what
 * the test wants to find out). It also counts, per process, how many signals
 * were handled and how many read/write/poll/waitpid calls returned EINTR, and
 * writes "signals N eintr M" to $AIE_SHIM_DIR/shim.PID at exit, so a test can
 * prove the interruptions happened.
 *
 * Environment: AIE_SHIM_DIR (where the counts go; unset: nowhere),
 * AIE_SHIM_US (the period in microseconds, default 1000). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHIM_SIG SIGURG /* default action: ignore, should it outlive the handler */

static atomic_long n_signals, n_eintr;
static atomic_int stop;
static pid_t owner;

static void on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add_explicit(&n_signals, 1, memory_order_relaxed);
}

static void *tick_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    const char *e = getenv("AIE_SHIM_US");
    long us = e && atol(e) > 0 ? atol(e) : 1000;
    pid_t self = (pid_t)syscall(SYS_gettid);
    while (!atomic_load(&stop)) {
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
        nanosleep(&ts, NULL);
        if (getpid() != owner)
            break;
        DIR *d = opendir("/proc/self/task");
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            pid_t tid = (pid_t)atoi(de->d_name);
            if (tid > 0 && tid != self)
                syscall(SYS_tgkill, owner, tid, SHIM_SIG);
        }
        closedir(d);
    }
    return NULL;
}

__attribute__((constructor)) static void shim_start(void)
{
    owner = getpid();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SHIM_SIG, &sa, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, tick_main, NULL) == 0)
        pthread_detach(t);
}

__attribute__((destructor)) static void shim_stop(void)
{
    if (getpid() != owner)
        return;
    atomic_store(&stop, 1);
    const char *dir = getenv("AIE_SHIM_DIR");
    if (!dir || !*dir)
        return;
    char path[4096], line[128];
    snprintf(path, sizeof(path), "%s/shim.%ld", dir, (long)owner);
    int n = snprintf(line, sizeof(line), "signals %ld eintr %ld\n", atomic_load(&n_signals),
                     atomic_load(&n_eintr));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
        close(fd);
    }
}

/* ---- counting interposers: the real call, plus a count of EINTR ---- */

static void *next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

#define COUNT_EINTR(r)                                                                            \
    do {                                                                                          \
        if ((r) < 0 && errno == EINTR)                                                            \
            atomic_fetch_add_explicit(&n_eintr, 1, memory_order_relaxed);                         \
    } while (0)

ssize_t read(int fd, void *buf, size_t n)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, void *, size_t))next_sym("read");
    ssize_t r = real(fd, buf, n);
    COUNT_EINTR(r);
    return r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t))next_sym("write");
    ssize_t r = real(fd, buf, n);
    COUNT_EINTR(r);
    return r;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    static int (*real)(struct pollfd *, nfds_t, int);
    if (!real)
        real = (int (*)(struct pollfd *, nfds_t, int))next_sym("poll");
    int r = real(fds, nfds, timeout);
    COUNT_EINTR(r);
    return r;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
    static pid_t (*real)(pid_t, int *, int);
    if (!real)
        real = (pid_t(*)(pid_t, int *, int))next_sym("waitpid");
    pid_t r = real(pid, status, options);
    COUNT_EINTR(r);
    return r;
}
