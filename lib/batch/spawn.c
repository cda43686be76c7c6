/* Starting programs: PATH lookup, the jobs' clone/exec, and captured runs for
 * the tools' dry runs. No shell is involved unless the job asks for one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aie/error.h"
#include "batch_internal.h"
#include "spawn.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

char *aie_exec_resolve(const char *name, const char *path, int *why)
{
    *why = ENOENT;
    if (!*name)
        return NULL;
    if (strchr(name, '/')) {
        char *p = strdup(name);
        if (!p)
            *why = ENOMEM;
        return p;
    }
    const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin";
    char cand[PATH_MAX];
    while (1) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        int len = n ? snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, name)
                    : snprintf(cand, sizeof(cand), "./%s", name);
        struct stat st;
        if (len > 0 && (size_t)len < sizeof(cand) && stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0) {
                char *c = strdup(cand);
                if (!c)
                    *why = ENOMEM;
                return c;
            }
            *why = EACCES;
        }
        if (!colon)
            break;
        p = colon + 1;
    }
    return NULL;
}

/* ---- jobs: clone(CLONE_VM | CLONE_VFORK) on a stack of our own, the way
 * posix_spawn works (no copy of our page tables, which are large with libav
 * mapped), plus what posix_spawn cannot do: PR_SET_PDEATHSIG, so no job
 * outlives aie-batch even when aie-batch is killed with SIGKILL. ---- */

typedef struct ChildArgs {
    const SpawnReq *r;
    pid_t parent;
} ChildArgs;

static void put(const char *s)
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

/* Runs in our memory until execve: only system calls, nothing that
 * allocates, takes a lock or touches errno's neighbours. */
__attribute__((no_sanitize("address", "undefined")))
static int child_main(void *arg)
{
    ChildArgs *a = arg;
    const SpawnReq *r = a->r;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < 65; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL);
    if (r->new_group)
        setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != a->parent) /* aie-batch died before the line above */
        _exit(127);
    if ((r->in_fd >= 0 && dup2(r->in_fd, 0) < 0) || (r->out_fd >= 0 && dup2(r->out_fd, 1) < 0) ||
        (r->err_fd >= 0 && dup2(r->err_fd, 2) < 0))
        _exit(126);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(r->path, r->argv, r->envp);
    /* the job's stderr is its captured output: say why, as a shell would */
    int e = errno;
    put("aie-batch: ");
    put(r->path);
    put(e == ENOENT ? ": command not found\n" : e == EACCES ? ": permission denied\n"
                                                               : ": cannot execute\n");
    _exit(e == ENOENT ? 127 : 126);
}

int aie_spawn_job(const SpawnReq *r, void *stack, size_t stack_size, pid_t *pid, int *pidfd)
{
    ChildArgs a = {.r = r, .parent = getpid()};
    sigset_t all, old;
    sigfillset(&all);
    /* no signal handler may run in the child while it shares our memory */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int fd = -1;
    char *top = (char *)((uintptr_t)((char *)stack + stack_size) & ~(uintptr_t)15);
    pid_t p = clone(child_main, top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &a, &fd);
    if (p < 0 && errno == EINVAL) { /* a kernel without CLONE_PIDFD */
        fd = -1;
        p = clone(child_main, top, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
        if (p > 0)
            fd = (int)syscall(SYS_pidfd_open, p, 0);
    }
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0)
        return aie_error_from_errno(e);
    if (fd >= 0)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    *pid = p;
    *pidfd = fd;
    return 0;
}

/* ---- captured runs (dry runs): posix_spawn, pipes, poll ---- */

extern char **environ;

int aie_exec_capture(const AieBatchExec *ex, char *const *argv, char **out, size_t cap, char *errline,
                     size_t errlen)
{
    int why, e = 0, po[2] = {-1, -1}, pe[2] = {-1, -1}, devnull = -1, spawned = 0;
    pid_t pid = -1;
    char *path = aie_exec_resolve(argv[0], ex ? ex->path : NULL, &why);
    Buf ob = {0}, eb = {0};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int fa_init = 0, at_init = 0;
    *out = NULL;
    if (errline && errlen)
        errline[0] = 0;
    if (!path && why == ENOMEM) {
        e = AIE_ENOMEM;
        goto done;
    }
    if (!path) {
        aie_errf(errline, errlen, "%s: %s", argv[0], why == EACCES ? "permission denied" : "command not found");
        e = why == EACCES ? 126 : 127;
        goto done;
    }
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
        (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        e = aie_error_from_errno(errno);
        goto done;
    }
    posix_spawn_file_actions_init(&fa);
    fa_init = 1;
    posix_spawnattr_init(&at);
    at_init = 1;
    posix_spawn_file_actions_adddup2(&fa, devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *const empty[] = {NULL};
    char *const *envp = ex && ex->env ? (char *const *)ex->env : empty;
    int se = posix_spawn(&pid, path, &fa, &at, argv, envp);
    if (se) {
        aie_errf(errline, errlen, "%s: %s", argv[0], strerror(se));
        e = se == ENOENT ? 127 : 126;
        goto done;
    }
    spawned = 1;
    close(po[1]);
    close(pe[1]);
    po[1] = pe[1] = -1;
    struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_n = 2;
    while (open_n) {
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = read(pf[k].fd, buf, sizeof(buf));
            if (n <= 0) {
                pf[k].fd = -1;
                open_n--;
                continue;
            }
            Buf *b = k ? &eb : &ob;
            if (b->len < (k ? 4096 : cap))
                aie_buf_add(b, buf, (size_t)n);
        }
    }
done:
    if (spawned) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        e = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (errline && errlen && eb.s) {
            char *nl = strchr(eb.s, '\n');
            if (nl)
                *nl = 0;
            aie_errf(errline, errlen, "%s", eb.s);
        }
        if (!(*out = aie_buf_take(&ob)))
            e = AIE_ENOMEM;
    }
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    if (at_init)
        posix_spawnattr_destroy(&at);
    for (int k = 0; k < 2; k++) {
        if (po[k] >= 0)
            close(po[k]);
        if (pe[k] >= 0)
            close(pe[k]);
    }
    if (devnull >= 0)
        close(devnull);
    aie_buf_free(&ob);
    aie_buf_free(&eb);
    free(path);
    return e;
}
