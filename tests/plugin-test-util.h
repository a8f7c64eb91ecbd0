/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde.h"

G_BEGIN_DECLS

/*
 * Helpers shared by the collector plugin tests (tests/<plugin>/): fixture
 * paths, a fake clock, collecting without error, the metric catalog and
 * a missing /proc.
 */

/* tests/fixtures/@plugin/ followed by the NULL-terminated components;
 * found from G_TEST_SRCDIR, whether it names tests/ (meson's test_env) or
 * the test's own directory tests/@plugin/. */
char        *sonde_plugin_test_fixture (const char *plugin,
                                        ...) G_GNUC_NULL_TERMINATED;

/* The time sonde_plugin_test_clock() returns, in microseconds. */
extern gint64 sonde_plugin_test_now;
gint64       sonde_plugin_test_clock      (gpointer user_data);
gint64       sonde_plugin_test_clock_void (void);

/* Collects, asserting there is no error and the sample is @collector_name's. */
SondeSample *sonde_plugin_test_collect (SondeCollector *collector,
                                        const char     *collector_name);

/* Asserts collect() with the proc root at @proc_root fails with
 * G_IO_ERROR_NOT_FOUND, and so does start() first when @check_start. */
void         sonde_plugin_test_assert_missing_proc (SondeCollector *collector,
                                                    const char     *proc_root,
                                                    gboolean        check_start);

typedef struct
{
  const char      *field;
  const char      *unit;
  SondeMetricKind  kind;
} SondePluginTestMetric;

/* Asserts @collector is named @name and has exactly the @n_expected metrics
 * of @expected, each named "@name.field"; unless @check_names the full
 * names are not checked. */
void         sonde_plugin_test_assert_catalog (SondeCollector              *collector,
                                               const char                  *name,
                                               const SondePluginTestMetric *expected,
                                               gsize                        n_expected,
                                               gboolean                     check_names);

G_END_DECLS
