#include "MallocCounter.h"
#include <errno.h>
#include <stddef.h>

// glibc only: the wrappers forward to glibc's __libc_* entry points. Elsewhere (macOS: malloc lives in libmalloc's
// zones, with no such entry points; interposing needs DYLD_INSERT_LIBRARIES) the counter reports itself unavailable
// and the allocation tests skip with that reason; the CLI's allocation counts are measured on Linux.
#if !defined(__GLIBC__)
#define RECUR_NO_MALLOC_COUNTER 1
#endif

#ifndef RECUR_NO_MALLOC_COUNTER
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
#endif

// initial-exec TLS: no allocation on first access (a general-dynamic TLS access may itself call malloc).
static __thread uint64_t allocations __attribute__((tls_model("initial-exec")));

uint64_t recur_thread_allocation_count(void) { return allocations; }

// Under AddressSanitizer or ThreadSanitizer (`swift test --sanitize=address|thread`) the sanitizer owns malloc: replacing it here would
// bypass its bookkeeping and crash. The counter is then unavailable and the allocation tests say so and skip.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RECUR_NO_MALLOC_COUNTER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RECUR_NO_MALLOC_COUNTER 1
#endif

#ifdef RECUR_NO_MALLOC_COUNTER
bool recur_allocation_counter_available(void) { return false; }
#else
bool recur_allocation_counter_available(void) { return true; }

void *malloc(size_t n) { allocations++; return __libc_malloc(n); }
void *calloc(size_t c, size_t n) { allocations++; return __libc_calloc(c, n); }
void *realloc(void *p, size_t n) { allocations++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { allocations++; return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { allocations++; return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
  allocations++;
  void *p = __libc_memalign(a, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
#endif
