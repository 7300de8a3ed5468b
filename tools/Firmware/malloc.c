// The firmware's allocation counter: every malloc-family call of the image (librecur.a's heap calls arrive through
// Sources/RecurC/recur_memory.c's posix_memalign and free) is linked to these wrappers (`-Wl,--wrap=malloc,...`), which count the calls and track
// the live and peak heap bytes before forwarding to picolibc's allocator. `main.c` reads the count around the
// step loops to show they allocate nothing, and reports the peak as the heap high-water mark. `memalign` is not
// wrapped: picolibc's posix_memalign calls it, so wrapping both counted every Swift allocation twice.

#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include "Firmware.h"

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);

static uint32_t allocations;  // calls that returned a new block (malloc, calloc, realloc, posix_memalign, ...)
static uint32_t liveBytes;    // usable bytes of the blocks not yet freed
static uint32_t peakBytes;    // the highest liveBytes reached

static void *counted(void *p) {
  if (p) {
    allocations++;
    liveBytes += (uint32_t)malloc_usable_size(p);
    if (liveBytes > peakBytes) peakBytes = liveBytes;
  }
  return p;
}

static void uncount(void *p) {
  if (p) liveBytes -= (uint32_t)malloc_usable_size(p);
}

void *__wrap_malloc(size_t n) { return counted(__real_malloc(n)); }
void *__wrap_calloc(size_t n, size_t size) { return counted(__real_calloc(n, size)); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return counted(__real_aligned_alloc(a, n)); }
void __wrap_free(void *p) {
  uncount(p);
  __real_free(p);
}
void *__wrap_realloc(void *p, size_t n) {
  uncount(p);
  void *q = __real_realloc(p, n);
  if (!q && p) {  // failed: the old block is still live
    liveBytes += (uint32_t)malloc_usable_size(p);
    return q;
  }
  return counted(q);
}
int __wrap_posix_memalign(void **out, size_t alignment, size_t n) {
  int status = __real_posix_memalign(out, alignment, n);
  if (status == 0) counted(*out);
  return status;
}

uint32_t fw_allocations(void) { return allocations; }
uint32_t fw_heap_live(void) { return liveBytes; }
uint32_t fw_heap_peak(void) { return peakBytes; }
