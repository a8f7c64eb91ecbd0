/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A GMainContext run from one source of another, on the same thread.
 *
 * GLib walks every source of a context before and after each poll, ready
 * or not. A server's connections keep one source each, waiting for a
 * message that rarely comes, so with thousands of clients that walk is
 * most of what a tick costs, although the tick sends straight to the
 * sockets and needs none of them. Attached to the nested context instead,
 * they are walked only when something of theirs is ready: one of its fds,
 * a source attached or made ready (the context wakes itself then), or its
 * next timeout.
 *
 * Whatever runs from the nested context has it as its thread-default
 * context, so the sources libsoup and GIO make for a connection follow it
 * there.
 */
typedef struct _SondeNestedContext SondeNestedContext;

/* Runs from a source of @outer (NULL: the global default context). */
SondeNestedContext *_sonde_nested_context_new         (GMainContext       *outer);
void                _sonde_nested_context_free        (SondeNestedContext *self);
GMainContext       *_sonde_nested_context_get_context (SondeNestedContext *self);
/* How many times it was iterated (for tests). */
guint64             _sonde_nested_context_get_iterations (SondeNestedContext *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeNestedContext, _sonde_nested_context_free)

/* A timeout source attached to the thread-default context, so that a
 * connection's timeouts run where the connection does (g_timeout_add()
 * uses the global default context). */
GSource            *_sonde_timeout_source_attach      (guint               milliseconds,
                                                       GSourceFunc         func,
                                                       gpointer            data,
                                                       const char         *name);
/* Destroys and unrefs *@source, if any, and clears it. */
void                _sonde_source_clear               (GSource           **source);

G_END_DECLS
