// The smallest useful firmware: what a pedal or sensor image that runs one model carries. It loads the embedded
// model through recur.h (its weights read in place), creates one stream in static memory and processes a block of
// samples (a 440 Hz sine at 48 kHz), then exits with 0, or with 2 when the model is refused or the stream does not
// fit. It prints nothing, so its code is librecur.a's share of an image (the runtime, its reader and the C API) plus a reset
// handler: tools/firmware measures it for the budget's "one model, deployed" row. (No golden check: main.c is the
// test; this image only has to run to its end.)

#include <stdint.h>
#include "Firmware.h"
#include "recur.h"

#define BLOCK 64
static uint8_t streamMemory[4096];  // one stream's state: recur_stream_size(model) bytes of it
static float input[BLOCK];          // [BLOCK] samples in
static float output[BLOCK];         // [BLOCK] the model's outputs

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  recur_model *model;
  if (recur_model_load_in_place(fw_model_bytes(), fw_model_size(), &model, 0) != RECUR_OK) return 2;
  recur_stream *stream;
  if (recur_stream_create(model, streamMemory, sizeof streamMemory, &stream) != RECUR_OK) return 2;
  if (recur_model_input_size(model) != 1 || recur_model_output_size(model) != 1) return 2;
  // sin(2π·440·t / 48000) by the rotation recurrence (no libm): s' = s·c + k·q, q' = q·c − k·s
  float s = 0, q = 1, c = 0.99958f, k = 0.028796f;
  for (int i = 0; i < BLOCK; i++) {
    input[i] = 0.5f * s;
    float t = s * c + k * q;
    q = q * c - k * s;
    s = t;
  }
  recur_stream_process(stream, input, output, BLOCK);
  recur_stream_destroy(stream);
  recur_model_destroy(model);
  return output[BLOCK - 1] == output[BLOCK - 1] ? 0 : 3;  // a NaN output fails the run
}
