// How many tests Swift Testing runs at once in this test process, set before its entry point reads
// its configuration (a constructor runs when the test binary is loaded, before main).
//
// Why: by default Swift Testing starts every test of the run at once (~660 here). On a 2-core
// machine Swift's cooperative pool has two threads, and every test start is queued on it, so an
// async test's `await` resumes only after the queued starts ahead of it have run: a 100 ms sleep
// was measured resuming 18–55 s late in the full suite, which failed tests that wait a bounded time
// for a server, a replica or a worker (they pass alone in milliseconds). With at most
// SLUICE_TEST_WIDTH tests running at once the same probe's worst lag was ~8 s and the suite took
// about as long (133 s → 145 s). A value set in the environment wins (0: leave it to Swift Testing).
#include <stdlib.h>

#define SLUICE_TEST_WIDTH "6"

__attribute__((constructor)) static void sluice_limit_test_parallelism(void) {
    setenv("SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH", SLUICE_TEST_WIDTH, 0);
}
