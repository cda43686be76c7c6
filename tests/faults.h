/*
 * Allocation-failure injection for the CUnit runner.
 *
 * The runner is linked with -Wl,--wrap=malloc,... (see FAULT_WRAP in the
 * Makefile), so every call that libaie (linked statically) makes to those
 * allocators goes through tests/faults.c. Between faults_begin() and
 * faults_end() the wrappers count allocations, make the fail_at-th one fail
 * (return NULL, or AVERROR(ENOMEM) for libav calls that return an int), and
 * keep every block that malloc/calloc/realloc/strdup/aligned_alloc/
 * posix_memalign returned in a table until it is freed, so a block still
 * live after the operation is a leak, found without a sanitizer.
 *
 * libav and json-c constructors that our code calls directly are wrapped for
 * injection only: their objects are freed inside those libraries, so the
 * table does not follow them (the asan and valgrind builds do).
 *
 * Thread-safe: pipeline and batch code allocate from several threads.
 */
#ifndef AIE_TESTS_FAULTS_H
#define AIE_TESTS_FAULTS_H

#include <stddef.h>
#include <stdio.h>

/* Start counting (and tracking) allocations; the fail_at-th (1-based) fails,
 * 0 = none fails. Clears the table of the previous round. */
void faults_begin(long fail_at);

/* Stop counting and injecting. Blocks stay tracked until freed. */
void faults_end(void);

/* Allocations counted since faults_begin(). */
long faults_count(void);

/* Nonzero when the armed failure was injected. */
int faults_hit(void);

/* Return address of the allocation call that was made to fail, or NULL. */
void *faults_hit_caller(void);

/* "binary+0xOFFSET" for addr2line. */
const char *faults_where(const void *addr, char *buf, size_t size);

/* Tracked blocks not yet freed, and their bytes. */
long faults_live(void);
size_t faults_live_bytes(void);

/* Nonzero when the table overflowed (the live counts are then unknown). */
int faults_overflow(void);

/* Print the live blocks (size and the caller's address, for addr2line). */
void faults_dump(FILE *f, int max);

/* Forget the live blocks (after a reported leak, so later rounds start clean). */
void faults_forget(void);

/* The muxer refuses (AVERROR(EINVAL), as for a timestamp it cannot store) the
 * nth (1-based) packet written to output stream index `stream` from now on;
 * n = 0 disarms. Independent of the allocation faults. */
void faults_mux_refuse(int stream, long n);

#endif
