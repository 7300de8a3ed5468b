// recur.h: Recur's runtime from C, for firmware (tools/firmware builds librecur.a from Sources/RecurRuntime and
// Sources/RecurC as Embedded Swift; docs/bare-metal.md, "Calling Recur from C").
//
// Data flow: the bytes of a .recur file (in flash, or anywhere) -> recur_model (validated and laid out for the
// kernels once, in RAM from the heap) -> any number of recur_stream (one stream's state each, in memory the caller
// provides: recur_stream_size bytes) -> recur_stream_step per sample, or recur_stream_process per block.
//
// Memory. Loading a model allocates from the platform's heap (posix_memalign and free) and nothing else does:
// creating a stream places every byte of its state in the caller's memory, and stepping, processing, generating
// and resetting never allocate. (The library's objects are redirected at build time, so its allocations during a
// stream's creation land in that memory; tools/firmware checks that the step loops make no heap call.)
// Threads: one stream is stepped by one thread at a time; load, create and destroy are not reentrant (they share
// the redirection). Steps of different streams may run concurrently on a multi-core part.
//
// Errors. Every call that can fail returns a recur_status; a refused model file also fills a recur_error with the
// check that refused it, the byte offset and the message the desktop `recur` prints (e.g. "byte 1732: checksum
// mismatch: stored 0x5178b2db, computed 0x7153ddb7"). Step calls take no status: their pointers must be valid for
// the model's sizes (recur_model_input_size, recur_model_output_size floats).
#ifndef RECUR_H
#define RECUR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RECUR_API_VERSION 1

typedef enum recur_status {
  RECUR_OK = 0,
  RECUR_ERROR_MODEL = 1,     // the model file was refused (recur_error says which check, where, why)
  RECUR_ERROR_MEMORY = 2,    // the memory given for a stream is smaller than recur_stream_size
  RECUR_ERROR_ARGUMENT = 3,  // a NULL pointer, or a call the model cannot take (generate with input != output size)
} recur_status;

// Which check refused a model file: the runtime's ModelFileError.Kind, in its order.
typedef enum recur_refusal {
  RECUR_REFUSED_NONE = 0,
  RECUR_REFUSED_TOO_LARGE = 1,
  RECUR_REFUSED_TRUNCATED = 2,
  RECUR_REFUSED_BAD_MAGIC = 3,
  RECUR_REFUSED_UNSUPPORTED_VERSION = 4,
  RECUR_REFUSED_BAD_HEADER = 5,
  RECUR_REFUSED_TRAILING_BYTES = 6,
  RECUR_REFUSED_UNSUPPORTED_CELL_KIND = 7,
  RECUR_REFUSED_BAD_SIZE = 8,
  RECUR_REFUSED_UNSUPPORTED_ENCODING = 9,
  RECUR_REFUSED_BAD_TENSOR_DIRECTORY = 10,
  RECUR_REFUSED_BAD_PADDING = 11,
  RECUR_REFUSED_CHECKSUM_MISMATCH = 12,
  RECUR_REFUSED_NON_FINITE_WEIGHT = 13,
  RECUR_REFUSED_BAD_METADATA = 14,
  RECUR_REFUSED_BAD_CHAIN = 15,
  RECUR_REFUSED_BAD_FORECAST = 16,
  RECUR_REFUSED_MISALIGNED = 17,  // recur_model_load_in_place: the bytes do not start at a multiple of 4
} recur_refusal;

#define RECUR_MESSAGE_CAPACITY 200

typedef struct recur_error {
  int32_t refusal;   // a recur_refusal
  int32_t offset;    // byte offset in the file where the problem is; -1 when the status is not RECUR_ERROR_MODEL
  char message[RECUR_MESSAGE_CAPACITY];  // one line, NUL-terminated ("" on success); cut at a character boundary
                                         // and ended with "..." when longer
} recur_error;

typedef struct recur_model recur_model;    // opaque: a loaded model, shared by its streams
typedef struct recur_stream recur_stream;  // opaque: one stream's state, inside the caller's memory

// ---- models

// Validates `count` bytes at `bytes` as a .recur file (magic, sizes, tensor directory, padding, CRC-32, finite
// weights: every check of the desktop loader) and lays its weights out for the kernels. On RECUR_OK, *model is the
// loaded model; the bytes need not outlive the call. On RECUR_ERROR_MODEL, *model is NULL and *error (when not NULL)
// says why. `error` may be NULL.
recur_status recur_model_load(const void *bytes, size_t count, recur_model **model, recur_error *error);

// recur_model_load with the recurrent layers' weights read where they are (in flash): nothing of them is copied to
// RAM (the readout rows, a chain's dense layers, a mixture's coefficients and learned initial states are: small).
// The same checks. The bytes must start at a multiple of 4 (RECUR_REFUSED_MISALIGNED otherwise) and must stay valid
// and unchanged until the model and all its streams are destroyed. Free-running generation then never uses folded
// feedback weights, so recur_stream_generate rounds as a loop of steps does (a last-bit difference, no other).
recur_status recur_model_load_in_place(const void *bytes, size_t count, recur_model **model, recur_error *error);

// Frees a model. Its streams keep it alive until they are destroyed too. NULL is ignored.
void recur_model_destroy(recur_model *model);

size_t recur_model_input_size(const recur_model *model);   // floats per step in (I)
size_t recur_model_output_size(const recur_model *model);  // floats per step out (O)
// Floats recur_stream_step_cell writes: O, or a mixture model's expert count.
size_t recur_model_readout_size(const recur_model *model);
// The sample rate the model was trained at (Hz), or 0 when the file states none.
double recur_model_sample_rate(const recur_model *model);

// ---- streams

// Bytes of caller memory one stream of `model` needs (any alignment; measured when the model was loaded).
size_t recur_stream_size(const recur_model *model);

// Creates a stream of `model` in `memory` (`bytes` >= recur_stream_size, any alignment), in its initial state.
// The memory belongs to the stream until recur_stream_destroy. RECUR_ERROR_MEMORY when `bytes` is too small.
recur_status recur_stream_create(recur_model *model, void *memory, size_t bytes, recur_stream **stream);

// Ends a stream: releases its hold on the model; its memory is the caller's again. NULL is ignored.
void recur_stream_destroy(recur_stream *stream);

// Forgets the sequence so far: the initial state, as after creation (a blank line in `recur stream`).
void recur_stream_reset(recur_stream *stream);

// Feeds one step (I floats at `input`) and writes the model's prediction (O floats at `output`): `recur stream`'s
// answer for that step, the model's encoding and normalisation included.
void recur_stream_step(recur_stream *stream, const float *input, float *output);

// recur_stream_step over `steps` steps: input [steps][I], output [steps][O], row-major. `output` may not overlap
// `input`.
void recur_stream_process(recur_stream *stream, const float *input, float *output, size_t steps);

// The recurrent cell alone, without the model's encoding (`recur stream --raw`): feeds `input` (I floats) and writes
// the readout (recur_model_readout_size floats).
void recur_stream_step_cell(recur_stream *stream, const float *input, float *readout);

// Continues a sequence on the model's own predictions (`recur generate`), for models with I = O: with
// `seed_steps` > 0, starts from the seed ([seed_steps][I], the stream is reset first); with 0, continues the last
// generation. Writes `steps` predictions ([steps][O]). RECUR_ERROR_ARGUMENT when I != O, or when nothing was begun.
recur_status recur_stream_generate(
    recur_stream *stream, const float *seed, size_t seed_steps, float *output, size_t steps);

#ifdef __cplusplus
}
#endif
#endif
