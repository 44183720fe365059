#ifndef SLUICE_CSECCOMP_SHIM_H
#define SLUICE_CSECCOMP_SHIM_H

#include <seccomp.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <spawn.h>

/* Macros and variadic functions Swift cannot import, as plain functions. */

static inline uint32_t sluice_seccomp_action_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t sluice_seccomp_action_errno(int code) { return SCMP_ACT_ERRNO(code); }

/* prctl is variadic. */
static inline int sluice_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
static inline int sluice_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

/* Closes every descriptor from `first` up in a child started by posix_spawn, after the file
   actions before it (glibc 2.34+; declared only under _GNU_SOURCE, which Swift's Glibc lacks). */
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int sluice_spawn_close_from(posix_spawn_file_actions_t *actions, int first) {
    return posix_spawn_file_actions_addclosefrom_np(actions, first);
}

#endif
