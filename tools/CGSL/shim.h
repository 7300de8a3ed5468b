// GNU GSL for the trainer. Swift 6 refuses C globals such as `gsl_rng_mt19937` (shared mutable state), so they are
// reached through static inline accessors.
#pragma once
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>

static inline const gsl_rng_type *recur_gsl_rng_mt19937(void) { return gsl_rng_mt19937; }

// The C library's `stdout` stream, for the same reason (recur-train checks it for write errors before exiting:
// RecurTrainer/OutputFiles.swift). Not GSL, but this is the trainer's one C shim header.
#include <stdio.h>
static inline FILE *recur_stdout(void) { return stdout; }
