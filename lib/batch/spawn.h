/* Starting a job's process (spawn.c). */
#ifndef AIE_BATCH_SPAWN_H
#define AIE_BATCH_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

typedef struct SpawnReq {
    const char *path;     /* resolved program */
    char *const *argv;
    char *const *envp;
    int in_fd, out_fd, err_fd; /* -1 = inherit */
    int new_group;        /* its own process group (the job's pgid = its pid) */
} SpawnReq;

/* Start r with clone(CLONE_VM|CLONE_VFORK) on `stack` (returns once the child
 * has exec'd or failed to). *pidfd is -1 when the kernel has no pidfds. A
 * failed exec makes the child say why on its stderr and exit 127 (not found)
 * or 126. Returns 0 or an AIE_E* code (nothing started). */
int aie_spawn_job(const SpawnReq *r, void *stack, size_t stack_size, pid_t *pid, int *pidfd);

#endif
