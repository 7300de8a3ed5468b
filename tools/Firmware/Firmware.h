// The firmware's board side, for main.c: services from startup.c and malloc.c, and the model and golden cases that
// tools/embed-firmware-model generates for each image. (The runtime itself is behind Sources/RecurC/recur.h.)
#ifndef RECUR_FIRMWARE_H
#define RECUR_FIRMWARE_H
#include <stdint.h>

// ---- board services (startup.c)
void fw_write(const uint8_t *bytes, int count);  // buffered semihosting console output
void fw_flush(void);
void fw_exit(int status) __attribute__((noreturn));
int fw_command_line(char *buffer, int capacity);  // semihosting command line; its length, or -1
uint32_t fw_stack_peak(void);                     // deepest stack use since reset, bytes
uint32_t fw_stack_reserved(void);
void fw_stack_repaint(void);                      // forget the peak so far (repaint below the caller's frame)
void fw_mark_begin(void);  // instruction counting starts after this call ...
void fw_mark_end(void);    // ... and stops here (tools/firmware reads QEMU's execution log)
void fw_systick_start(void);    // SysTick free-running from 0xFFFFFF down, processor clock
uint32_t fw_systick_read(void);  // its current value (24 bits)

// ---- allocation counting (malloc.c)
uint32_t fw_allocations(void);  // malloc-family calls that returned a block, since reset
uint32_t fw_heap_live(void);    // bytes in live blocks
uint32_t fw_heap_peak(void);    // the highest fw_heap_live so far: the heap high-water mark

// ---- the embedded model and its cases (generated: tools/embed-firmware-model)
enum { FW_STREAM = 0, FW_STREAM_RAW = 1, FW_GENERATE = 2 };

typedef struct {
  const char *name;       // the golden case name, e.g. "stream-1"
  int32_t kind;           // FW_STREAM, FW_STREAM_RAW or FW_GENERATE
  int32_t steps;          // FW_GENERATE: values generated per seed
  int32_t sequences;      // stream: sequences (a blank input line starts a new one); generate: seeds
  const int32_t *counts;  // [sequences] values in each sequence or seed
  const float *values;    // [sum of counts] every input value, in order
} fw_case;

const uint8_t *fw_model_bytes(void);  // the .recur file, in flash (.rodata)
uint32_t fw_model_size(void);
const char *fw_model_name(void);
int32_t fw_case_count(void);
const fw_case *fw_case_at(int32_t index);
#endif
