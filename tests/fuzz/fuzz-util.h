/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sonde.h"

G_BEGIN_DECLS

/*
 * What the libFuzzer targets of tests/fuzz share: process setup, a small
 * fixed engine (its catalog) and a server that never listens, and checks
 * that turn a broken promise into a crash libFuzzer reports.
 */

/* libFuzzer's entry points. Every target defines LLVMFuzzerTestOneInput();
 * fuzz-util.c defines a weak LLVMFuzzerInitialize() that calls
 * fuzz_init(), which a target replaces when it sets up more (and then
 * calls fuzz_init() first). */
int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Call first from LLVMFuzzerInitialize(): re-executes the process with
 * G_SLICE=always-malloc (so that AddressSanitizer sees every GLib
 * allocation) unless it is set, and makes GLib warnings and criticals
 * fatal: a g_return_if_fail() reached from input is a bug. */
void         fuzz_init                (int     *argc,
                                       char  ***argv);

/* An engine with the collectors cpu, memory, disk, network and (unless
 * @with_gateway is FALSE) gateway, declaring some of the metrics their
 * plugins declare; never started. */
SondeEngine *fuzz_engine_new          (gboolean with_gateway);
/* One of those, with the gateway, made at the first call and kept for
 * the process. */
SondeEngine *fuzz_engine_get          (void);
/* A server of fuzz_engine_get() that never listens. Made once. */
SondeServer *fuzz_server_get          (void);

/* @data as a NUL-terminated string (the parsers of /proc files take
 * text). Free with g_free(). */
char        *fuzz_strndup             (const uint8_t *data,
                                       size_t         size);

/* Aborts unless @bytes is one JSON value json-glib reads back, in
 * valid UTF-8: what Sonde writes to a client must always be readable. */
void         fuzz_assert_json_bytes   (GBytes        *bytes);

/* Aborts with @message (a printf format) when @condition is false, in
 * every build type: libFuzzer reports the crash and keeps the input. */
#define fuzz_check(condition, ...)                                         \
  G_STMT_START {                                                           \
    if (G_UNLIKELY (!(condition)))                                         \
      {                                                                    \
        g_printerr ("%s:%d: check failed: %s: ", __FILE__, __LINE__,       \
                    #condition);                                           \
        g_printerr (__VA_ARGS__);                                          \
        g_printerr ("\n");                                                 \
        abort ();                                                          \
      }                                                                    \
  } G_STMT_END

G_END_DECLS
