// Test-only: counts malloc-family calls made by the calling thread. Linking this target replaces the process's
// malloc/calloc/realloc/free/posix_memalign/aligned_alloc/memalign with forwarding wrappers (glibc's __libc_*).
// Never let a product depend on it.
#pragma once
#include <stdbool.h>
#include <stdint.h>

/// Allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by this thread so far.
uint64_t recur_thread_allocation_count(void);

/// False when the counter cannot replace malloc (under AddressSanitizer); the count then stays 0.
bool recur_allocation_counter_available(void);
