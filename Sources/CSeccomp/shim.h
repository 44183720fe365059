#ifndef SLUICE_CSECCOMP_SHIM_H
#define SLUICE_CSECCOMP_SHIM_H

#include <seccomp.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Macros and variadic functions Swift cannot import, as plain functions. */

static inline uint32_t sluice_seccomp_action_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t sluice_seccomp_action_errno(int code) { return SCMP_ACT_ERRNO(code); }

/* prctl is variadic. */
static inline int sluice_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
static inline int sluice_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

/* close_range(2) (Linux 5.9+), closing every descriptor from `first` up; syscall is variadic. */
#ifndef __NR_close_range
#define __NR_close_range 436
#endif
static inline int sluice_close_from(unsigned int first) { return (int)syscall(__NR_close_range, first, ~0U, 0); }

#endif
