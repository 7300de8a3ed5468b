// The firmware's `main`, written in C against recur.h (librecur.a: the runtime as Embedded Swift). It loads the
// model embedded in flash through the runtime's own reader and validation, its weights read in place
// (recur_model_load_in_place: no weight matrix is copied to RAM), checks recur.h's contract and that the copying
// load (recur_model_load) answers the same bit for bit, creates one stream in `streamMemory` (recur_stream_create:
// no heap), then either
//   - runs every golden case embedded in the image (stream, stream --raw, generate: the same calls as `recur stream`
//     and `recur generate`) and prints the outputs between `@@case NAME` / `@@end` lines, each value as the hex of
//     its float32 bits (exact, and no float formatting in the image), with the heap calls counted around every step
//     loop, and the budget (heap, stack, stream memory) at the end; or, with the semihosting argument `icount`,
//   - runs a fixed number of stream and generate steps between the instruction-count markers, printing nothing in
//     between, so tools/firmware can count the instructions QEMU executes per step.
// A refused model prints `error: model in flash refused: MESSAGE`, then `refusal=K offset=N`, and exits 2.

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "Firmware.h"
#include "recur.h"

// One stream's whole state (recur_stream_size bytes of it): static, so it shows in .bss, not in the heap.
#define STREAM_MEMORY_CAPACITY 8192
static uint8_t streamMemory[STREAM_MEMORY_CAPACITY];

static void text(const char *s) { fw_write((const uint8_t *)s, (int)strlen(s)); }

static void number(uint32_t value) {
  char digits[11];
  int n = 0;
  do {
    digits[10 - n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  fw_write((const uint8_t *)digits + 11 - n, n);
}

static void field(const char *name, uint32_t value) {
  text(name);
  number(value);
}

static void hexFloat(float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  char s[10] = {'0', 'x'};
  for (int i = 0; i < 8; i++) s[2 + i] = "0123456789abcdef"[(bits >> (28 - 4 * i)) & 15];
  fw_write((const uint8_t *)s, 10);
}

__attribute__((noreturn)) static void fail(const char *what, const char *message) {
  text("error: ");
  text(what);
  text(message);
  text("\n");
  fw_flush();
  fw_exit(2);
}

// True when QEMU was started with the semihosting argument `icount`.
static int isIcountRun(void) {
  char line[64];
  int n = fw_command_line(line, sizeof line);
  return n >= 6 && memcmp(line + n - 6, "icount", 6) == 0;
}

// Steps measured by tools/firmware: ICOUNT_STEPS stream predictions (the first stream case's values, from a reset
// state), then a generate of ICOUNT_STEPS values from the first seed; each between the two markers; first for the
// model read in place, then for the copying load's.
#define ICOUNT_STEPS 16

static void measure(const char *kind, recur_stream *stream, const float *values, int count, float *out) {
  text("@@icount ");
  text(kind);
  field(" steps=", ICOUNT_STEPS);
  text("\n");
  fw_flush();
  uint32_t before = fw_systick_read();
  fw_mark_begin();
  if (values) {
    for (int i = 0; i < ICOUNT_STEPS; i++) recur_stream_step(stream, values + i % count, out);
  } else {
    recur_stream_generate(stream, 0, 0, out, ICOUNT_STEPS);
  }
  fw_mark_end();
  uint32_t ticks = (before - fw_systick_read()) & 0x00FFFFFF;
  text("@@systick ");
  text(kind);
  field(" ticks=", ticks);
  text("\n");
}

static void icount(recur_stream *stream, float *out) {
  const float *streamValues = 0, *seed = 0;
  int streamCount = 0, seedCount = 0;
  for (int c = 0; c < fw_case_count(); c++) {
    const fw_case *spec = fw_case_at(c);
    if (spec->kind == FW_STREAM && !streamValues) streamValues = spec->values, streamCount = spec->counts[0];
    if (spec->kind == FW_GENERATE && !seed) seed = spec->values, seedCount = spec->counts[0];
  }
  fw_systick_start();
  recur_stream_reset(stream);
  if (streamValues) measure("stream", stream, streamValues, streamCount, out);
  if (seed) {
    recur_stream_generate(stream, seed, (size_t)seedCount, out, 0);  // begin: reset, then the seed
    measure("generate", stream, 0, 0, out);
  }
  // The same with the copying load (weights in the kernels' layout in RAM), in the second half of streamMemory.
  recur_model *copy;
  recur_stream *copied;
  size_t half = sizeof streamMemory / 2;
  if (recur_model_load(fw_model_bytes(), fw_model_size(), &copy, 0) != RECUR_OK ||
      recur_stream_create(copy, streamMemory + half, half, &copied) != RECUR_OK) {
    fail("", "the copying load or its stream failed");
  }
  if (streamValues) measure("copied_stream", copied, streamValues, streamCount, out);
  if (seed) {
    recur_stream_generate(copied, seed, (size_t)seedCount, out, 0);
    measure("copied_generate", copied, 0, 0, out);
  }
  text("@@icount done\n");
  fw_flush();
}

// recur.h's contract for what a caller can get wrong: each refused with its status, nothing half-made.
static void checkContract(recur_model *model, size_t streamBytes) {
  recur_model *none = (recur_model *)1;
  recur_error error;
  if (recur_model_load(0, 16, &none, &error) != RECUR_ERROR_ARGUMENT || none || error.offset != -1) {
    fail("contract: ", "recur_model_load(NULL bytes) must return RECUR_ERROR_ARGUMENT and a NULL model");
  }
  if (recur_model_load(fw_model_bytes(), fw_model_size(), 0, 0) != RECUR_ERROR_ARGUMENT) {
    fail("contract: ", "recur_model_load(NULL model pointer) must return RECUR_ERROR_ARGUMENT");
  }
  recur_stream *stream = (recur_stream *)1;
  if (recur_stream_create(model, streamMemory, streamBytes - 1, &stream) != RECUR_ERROR_MEMORY || stream) {
    fail("contract: ", "recur_stream_create with one byte too few must return RECUR_ERROR_MEMORY");
  }
  if (recur_stream_create(model, 0, streamBytes, &stream) != RECUR_ERROR_ARGUMENT || stream) {
    fail("contract: ", "recur_stream_create(NULL memory) must return RECUR_ERROR_ARGUMENT");
  }
  // A stream at an odd address (any alignment is allowed), exactly recur_stream_size bytes, then gone.
  if (recur_stream_create(model, streamMemory + 3, streamBytes, &stream) != RECUR_OK) {
    fail("contract: ", "recur_stream_create at an odd address with exactly recur_stream_size bytes failed");
  }
  float x = 0.5f, y;
  recur_stream_step(stream, &x, &y);
  if (recur_stream_generate(stream, 0, 0, &y, 1) != RECUR_ERROR_ARGUMENT) {
    fail("contract: ", "recur_stream_generate with nothing begun must return RECUR_ERROR_ARGUMENT");
  }
  recur_stream_destroy(stream);
  recur_stream_destroy(0);
  recur_model_destroy(0);
  // In place, the bytes must start at a multiple of 4.
  if (recur_model_load_in_place(fw_model_bytes() + 1, fw_model_size() - 1, &none, &error) != RECUR_ERROR_MODEL ||
      error.refusal != RECUR_REFUSED_MISALIGNED || error.offset != 0 || none) {
    fail("contract: ", "recur_model_load_in_place of misaligned bytes must be refused (RECUR_REFUSED_MISALIGNED)");
  }
}

// The weights read in place (flash) and laid out in RAM by recur_model_load give the same stream answers, bit for
// bit, over the first stream case's values (the same sums in the same order: Cells/InPlaceLayer.swift).
// Returns the heap bytes the copying load keeps (for the budget).
static uint32_t checkInPlaceMatchesCopy(recur_model *inPlace) {
  const fw_case *first = 0;
  for (int c = 0; c < fw_case_count() && !first; c++) {
    if (fw_case_at(c)->kind == FW_STREAM) first = fw_case_at(c);
  }
  uint32_t before = fw_heap_live();
  recur_model *copy;
  recur_error error;
  if (recur_model_load(fw_model_bytes(), fw_model_size(), &copy, &error) != RECUR_OK) {
    fail("recur_model_load refused what recur_model_load_in_place took: ", error.message);
  }
  uint32_t copyBytes = fw_heap_live() - before;
  size_t half = sizeof streamMemory / 2;
  recur_stream *a, *b;
  if (recur_stream_size(copy) > half || recur_stream_size(inPlace) > half ||
      recur_stream_create(inPlace, streamMemory, half, &a) != RECUR_OK ||
      recur_stream_create(copy, streamMemory + half, half, &b) != RECUR_OK) {
    fail("", "two streams do not fit in streamMemory");
  }
  for (int i = 0; first && i < first->counts[0]; i++) {
    float x = first->values[i], ya, yb;
    recur_stream_step(a, &x, &ya);
    recur_stream_step(b, &x, &yb);
    if (memcmp(&ya, &yb, sizeof ya) != 0) {
      text("in place ");
      hexFloat(ya);
      text(", copied ");
      hexFloat(yb);
      field(" at step ", (uint32_t)i);
      fail("\n", "the model read in place and the copied one differ");
    }
  }
  recur_stream_destroy(a);
  recur_stream_destroy(b);
  recur_model_destroy(copy);
  return copyBytes;
}

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  uint32_t allocationsAtReset = fw_allocations();
  recur_model *model;
  recur_error error;
  if (recur_model_load_in_place(fw_model_bytes(), fw_model_size(), &model, &error) != RECUR_OK) {
    text("error: model in flash refused: ");
    text(error.message);
    text("\n");
    field("refusal=", (uint32_t)error.refusal);
    field(" offset=", (uint32_t)error.offset);
    text("\n");
    fw_flush();
    fw_exit(2);
  }
  uint32_t heapModel = fw_heap_live();  // what loading keeps: the model's objects, readout rows, no recurrent weight
  if (recur_model_input_size(model) != 1 || recur_model_output_size(model) != 1) {
    fail("", "the firmware runs models with one input and one output");
  }
  size_t streamBytes = recur_stream_size(model);
  if (streamBytes > sizeof streamMemory - 3) fail("", "the stream needs more than STREAM_MEMORY_CAPACITY - 3 bytes");
  uint32_t heapPeakAtLoad = fw_heap_peak();
  uint32_t stackPeakAtLoad = fw_stack_peak();
  uint32_t loadAllocations = fw_allocations() - allocationsAtReset;
  // Then the checks (in streamMemory, gone before the real stream is made; their heap use is not the budget's).
  checkContract(model, streamBytes);
  uint32_t heapCopyModel = checkInPlaceMatchesCopy(model);
  recur_stream *stream;
  recur_status status = recur_stream_create(model, streamMemory, sizeof streamMemory, &stream);
  if (status != RECUR_OK) fail("recur_stream_create: ", "the stream needs more than STREAM_MEMORY_CAPACITY bytes");
  uint32_t heapAfterLoad = fw_heap_live();
  fw_stack_repaint();  // from here on, `stack-peak` is the deepest use of the cases (steps and printing)

  // The outputs of one sequence or seed, written by the step loop and printed after it (test data: on the heap
  // after the load's figures were taken, as the Swift main did).
  int capacity = 1;
  for (int c = 0; c < fw_case_count(); c++) {
    const fw_case *spec = fw_case_at(c);
    for (int s = 0; s < spec->sequences; s++) {
      int n = spec->kind == FW_GENERATE ? spec->steps : spec->counts[s];
      if (n > capacity) capacity = n;
    }
  }
  float *out = malloc((size_t)capacity * sizeof(float));  // [capacity]
  if (!out) fail("", "no heap for the output buffer");

  if (isIcountRun()) {
    icount(stream, out);
    return 0;
  }

  text("@@model ");
  text(fw_model_name());
  field(" bytes=", fw_model_size());
  text("\n");
  uint32_t stepAllocations = 0;  // heap calls inside the step loops: must stay 0
  for (int c = 0; c < fw_case_count(); c++) {
    const fw_case *spec = fw_case_at(c);
    text("@@case ");
    text(spec->name);
    text("\n");
    const float *values = spec->values;
    uint32_t caseAllocations = 0;
    for (int s = 0; s < spec->sequences; s++) {
      int n = spec->counts[s];
      uint32_t before = fw_allocations();
      int produced = n;
      switch (spec->kind) {
        case FW_GENERATE:
          produced = spec->steps;
          if (recur_stream_generate(stream, values, (size_t)n, out, (size_t)produced) != RECUR_OK) {
            fail("", "recur_stream_generate refused the case");
          }
          break;
        case FW_STREAM:
          recur_stream_reset(stream);
          recur_stream_process(stream, values, out, (size_t)n);
          break;
        default:  // FW_STREAM_RAW: the cell alone, as `recur stream --raw`
          // A mixture's readout is its experts' logits (more than the one value per step `out` holds).
          if (recur_model_readout_size(model) != 1) {
            fail("", "--raw prints the cell's readout; a mixture model has no such case");
          }
          recur_stream_reset(stream);
          for (int i = 0; i < n; i++) recur_stream_step_cell(stream, values + i, out + i);
      }
      caseAllocations += fw_allocations() - before;
      values += n;
      for (int i = 0; i < produced; i++) {  // generate: one line per seed; stream: one line per value
        hexFloat(out[i]);
        text(spec->kind != FW_GENERATE || i == produced - 1 ? "\n" : " ");
      }
    }
    stepAllocations += caseAllocations;
    field("@@end allocations=", caseAllocations);
    field(" heap-peak=", fw_heap_peak());
    text("\n");
  }
  free(out);
  recur_stream_destroy(stream);
  uint32_t heapAfterStream = fw_heap_live();  // = heap-after-load: the stream was never on the heap
  recur_model_destroy(model);                 // then nothing is left
  field("@@budget load-allocations=", loadAllocations);
  field(" heap-model=", heapModel);
  field(" heap-after-load=", heapAfterLoad);
  field(" heap-peak-load=", heapPeakAtLoad);
  field(" heap-peak=", fw_heap_peak());
  field(" stack-peak-load=", stackPeakAtLoad);
  field(" stack-peak=", fw_stack_peak());
  field(" step-allocations=", stepAllocations);
  field(" stream-bytes=", (uint32_t)streamBytes);
  field(" heap-copy-model=", heapCopyModel);
  field(" heap-after-stream-destroy=", heapAfterStream);
  field(" heap-after-destroy=", fw_heap_live());
  text("\n");
  fw_flush();
  if (stepAllocations != 0) fw_exit(4);
  return 0;
}
