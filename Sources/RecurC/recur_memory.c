// Where librecur.a's memory comes from. tools/firmware renames the Swift objects' calls to posix_memalign and free
// (arm-none-eabi-objcopy --redefine-sym) to the two functions below, so the library, and only the library, allocates
// through them: from the platform heap while a model loads, and from the caller's memory while a stream is created
// (recur_stream_create), which is how a stream's whole state, the runtime's objects included, lives in memory the
// caller owns. Steps never allocate (tools/firmware counts heap calls around every step loop).
//
// The stream's size is measured, not computed: the model's load creates and destroys one stream on the heap with
// recur_memory_measure on, summing each block's size plus (alignment - 1) bytes, so the same sequence of
// allocations fits in a region of that many bytes whatever its start's alignment.

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "recur_memory.h"

static uint8_t *regionStart, *regionTop, *regionEnd;  // the active region, or all NULL: the heap
static int measuring;
static size_t measured;

void recur_memory_use_region(void *memory, size_t bytes) {
  regionStart = regionTop = (uint8_t *)memory;
  regionEnd = regionStart + bytes;
}

void recur_memory_use_heap(void) { regionStart = regionTop = regionEnd = NULL; measuring = 0; }

void recur_memory_measure(void) {
  measuring = 1;
  measured = 0;
}

size_t recur_memory_measured(void) { return measured; }

int recur_posix_memalign(void **out, size_t alignment, size_t size) {
  if (regionStart) {
    uintptr_t at = ((uintptr_t)regionTop + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (at < (uintptr_t)regionTop || at > (uintptr_t)regionEnd || size > (uintptr_t)regionEnd - at) return ENOMEM;
    regionTop = (uint8_t *)(at + size);
    *out = (void *)at;
    return 0;
  }
  int status = posix_memalign(out, alignment, size);
  if (status == 0 && measuring) measured += size + alignment - 1;
  return status;
}

void recur_free(void *block) {
  if (regionStart && (uint8_t *)block >= regionStart && (uint8_t *)block < regionEnd) return;
  free(block);
}
