// How the parallel kernels enter OpenMP: one region per call, and none at all on one thread.
#pragma once

#include <omp.h>

namespace attn {

// Runs body() as one OpenMP parallel region of `threads` threads, or on the calling thread alone,
// outside any region, when threads is 1; the `omp for` loops in body() then run every iteration on
// the caller. libgomp ends each region, even an if(false) one of a single thread, with a barrier
// whose wake-up is a futex system call, microseconds on a virtual machine: a one-head flash call
// at n 128 took 30-33 us through three such regions and 26-28 us without (oneDNN, too, calls its
// body directly on one thread). Inside an active parallel region a one-thread call still makes
// its own team, so that body's loops do not bind to the caller's team and share out its work.
template <class Body> void parallel_region(int threads, Body&& body) {
    if (threads <= 1 && !omp_in_parallel()) {
        body();
        return;
    }
#pragma omp parallel num_threads(threads > 1 ? threads : 1)
    body();
}

}  // namespace attn
