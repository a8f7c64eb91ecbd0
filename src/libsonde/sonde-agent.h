/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(SONDE_INSIDE) && !defined(SONDE_COMPILATION)
# error "Only <sonde.h> can be included directly."
#endif

#include <gio/gio.h>

#include "sonde-engine.h"
#include "sonde-version-macros.h"

G_BEGIN_DECLS

/**
 * SONDE_AGENT_DEFAULT_BUFFER_SIZE:
 *
 * How many reports a #SondeAgent keeps while its hub is away: ten
 * minutes at one report a second.
 *
 * Since: 0.2
 */
#define SONDE_AGENT_DEFAULT_BUFFER_SIZE 600

/**
 * SONDE_AGENT_MAX_BUFFER_SIZE:
 *
 * The most reports a #SondeAgent may be told to keep: a day.
 *
 * Since: 0.2
 */
#define SONDE_AGENT_MAX_BUFFER_SIZE 86400

#define SONDE_TYPE_AGENT (sonde_agent_get_type ())

SONDE_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (SondeAgent, sonde_agent, SONDE, AGENT, GObject)

SONDE_AVAILABLE_IN_0_2
SondeAgent *sonde_agent_new              (SondeEngine  *engine,
                                          const char   *url,
                                          GError      **error);
SONDE_AVAILABLE_IN_0_2
SondeEngine *sonde_agent_get_engine      (SondeAgent   *self);
SONDE_AVAILABLE_IN_0_2
const char *sonde_agent_get_url          (SondeAgent   *self);
SONDE_AVAILABLE_IN_0_2
void        sonde_agent_set_token        (SondeAgent   *self,
                                          const char   *token);
SONDE_AVAILABLE_IN_0_2
GTlsDatabase *sonde_agent_get_tls_database (SondeAgent *self);
SONDE_AVAILABLE_IN_0_2
void        sonde_agent_set_tls_database (SondeAgent   *self,
                                          GTlsDatabase *database);
SONDE_AVAILABLE_IN_0_2
guint       sonde_agent_get_buffer_size  (SondeAgent   *self);
SONDE_AVAILABLE_IN_0_2
void        sonde_agent_set_buffer_size  (SondeAgent   *self,
                                          guint         reports);
SONDE_AVAILABLE_IN_0_2
void        sonde_agent_start            (SondeAgent   *self);
SONDE_AVAILABLE_IN_0_2
void        sonde_agent_stop             (SondeAgent   *self);
SONDE_AVAILABLE_IN_0_2
gboolean    sonde_agent_get_connected    (SondeAgent   *self);
SONDE_AVAILABLE_IN_0_2
guint       sonde_agent_get_n_buffered   (SondeAgent   *self);
SONDE_AVAILABLE_IN_0_2
guint64     sonde_agent_get_n_dropped    (SondeAgent   *self);

G_END_DECLS
