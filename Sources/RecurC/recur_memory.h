// The redirection of librecur.a's allocations (recur_memory.c), as the Swift side of the C API sees it
// (imported with -import-objc-header, with recur.h for the API's types).
#ifndef RECUR_MEMORY_H
#define RECUR_MEMORY_H
#include <stddef.h>
#include "recur.h"

// From now until recur_memory_use_heap, allocations come from [memory, memory + bytes) (a bump pointer) and frees
// of blocks inside it are ignored: a stream's creation and destruction.
void recur_memory_use_region(void *memory, size_t bytes);
// Back to the platform heap (posix_memalign, free).
void recur_memory_use_heap(void);
// Starts counting the region bytes the heap allocations from now on would need (their sizes plus the worst-case
// alignment padding); recur_memory_measured returns the count so far.
void recur_memory_measure(void);
size_t recur_memory_measured(void);
#endif
