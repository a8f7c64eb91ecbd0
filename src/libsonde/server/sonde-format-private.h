/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "sonde-event.h"
#include "sonde-hub-private.h"
#include "sonde-server.h"

G_BEGIN_DECLS

/*
 * The one seam between the server core and the wire formats: the native
 * protocol and each replaced product's format is a SondeFormat, listed in
 * the table of sonde-formats.c. The server core calls formats only
 * through these entries and names none of them; docs/architecture.md
 * tells how to add one.
 *
 * A format may keep state per server (its clients, caches, settings):
 * state_new() makes it when the server is constructed, and every other
 * hook gets it back.
 */

/* What a route guards, and so which token it asks. */
typedef enum
{
  /* Read-only metrics: the token for anything but GET and HEAD, and for
   * those too unless reads are open. */
  SONDE_ROUTE_READ,
  /* More than metrics (log lines, commands) or a change of state: the
   * token whenever there is one. */
  SONDE_ROUTE_SENSITIVE,
  /* Clients with credentials of their own, which the route checks (a
   * hub's agents): the server's token is not asked; the body, Host and
   * Origin checks stay. */
  SONDE_ROUTE_OWN_TOKENS,
} SondeRouteKind;

/* What the server does with the WebSocket clients of one route: it
 * accepts them through the format, counts them, and frees them when they
 * close or the server stops. */
typedef struct
{
  gpointer (*accept) (SondeServer             *server,
                      gpointer                 format_state,
                      SoupWebsocketConnection *websocket,
                      const char              *route,
                      GHashTable              *query);
  void     (*free)   (gpointer                 client);
  /* What the stream reveals or takes: SONDE_ROUTE_SENSITIVE for more
   * than metrics (log lines, commands), whose handshake needs the token
   * whenever there is one; SONDE_ROUTE_OWN_TOKENS when accept() checks
   * its clients' own tokens (_sonde_server_match_client_token()). */
  SondeRouteKind kind;
} SondeClientOps;

/* Where a format is served: a path on the main listener, and a path and
 * port of its own compatibility listener (the replaced product's own, so
 * that its clients run unchanged). A format may have several: a product
 * that listened on several ports. */
typedef struct
{
  const char *name;          /* of the compatibility listener: --compat NAME */
  const char *main_path;     /* on the main listener, or NULL */
  const char *compat_path;   /* on its compatibility listener */
  guint       compat_port;   /* the replaced product's port */
  void      (*register_routes) (SondeServer *server,
                                gpointer     format_state,
                                SoupServer  *soup_server,
                                const char  *path);
} SondeFormatListener;

typedef struct
{
  const char                *name;
  const SondeFormatListener *listeners;       /* ended by an entry whose name is NULL */
  /* Optional: the catalog metrics the format maps its fields to
   * (NULL-terminated), so that a test can check they all exist. */
  const char * const *     (*list_catalog_metrics) (void);
  /* The configuration groups configure() reads (NULL-terminated). */
  const char * const        *config_groups;

  gpointer (*state_new)          (SondeServer  *server);
  void     (*state_free)         (gpointer      state);
  /* Optional: reads the format's groups of a configuration file; unknown
   * keys and bad values are errors. */
  gboolean (*configure)          (gpointer      state,
                                  GKeyFile     *keyfile,
                                  GError      **error);
  /* Optional: members of GET /status on the main listener. */
  void     (*add_status_members) (gpointer      state,
                                  JsonObject   *status);
  /* Optional: an engine event, for the format to pass on to its clients. */
  void     (*event)              (gpointer      state,
                                  SondeEvent   *event);
  /* Optional: the catalog or the server's interval bounds changed, so
   * that what was cached from them goes. */
  void     (*invalidate)         (gpointer      state);

  /* Optional: hosts other than this one whose data the format receives
   * (a hub's agents), named by @host, for GET /api/v1/snapshot?host=,
   * GET /api/v1/history?host= and the native protocol's `host`. Each
   * returns NULL for a host the format does not know. */
  /* The host's latest data, with a reference. */
  SondeTickView *(*host_view)    (gpointer      state,
                                  const char   *host);
  /* [[epoch_ms, value], ...] of its last @seconds; NULL with @error set
   * when @metric is not recorded for it. */
  JsonArray     *(*host_history) (gpointer      state,
                                  const char   *host,
                                  const char   *metric,
                                  guint         seconds,
                                  GError      **error);
  /* The subscription hub its groups join, fed each new view of it. */
  SondeHub      *(*host_hub)     (gpointer      state,
                                  const char   *host);
  /* The hosts online now, each by the name host_view() knows it by,
   * added to @hosts (element-type utf8, owned), for GET /metrics;
   * FALSE when the format takes no other host's data at all (a server
   * not configured as a hub), whatever is connected, so that the route's
   * labels depend on the configuration only. */
  gboolean       (*list_hosts)   (gpointer      state,
                                  GPtrArray    *hosts);
} SondeFormat;

/* The table, native first; in sonde-formats.c. */
const SondeFormat * const *_sonde_formats_get (void);

/* The listener named @name of any format, and its format. */
const SondeFormatListener *_sonde_formats_find_listener (const char         *name,
                                                         const SondeFormat **format);

/* Errors of configure(), in one form: "[group] key: what is wrong". */
void _sonde_format_set_config_error (GError    **error,
                                     const char *group,
                                     const char *key,
                                     const char *format,
                                     ...) G_GNUC_PRINTF (4, 5);

/* An unknown key of @group is an error. */
gboolean _sonde_format_check_keys (GKeyFile            *keyfile,
                                   const char          *group,
                                   const char * const  *known_keys,
                                   GError             **error);
/* Reads @key of @group into @value when it is set; a value that is not a
 * whole number within [@min, @max] is an error, said by @invalid (a
 * format with one %s, the value: "%s is not a port (0-65535)"). */
gboolean _sonde_format_read_uint  (GKeyFile            *keyfile,
                                   const char          *group,
                                   const char          *key,
                                   guint                min,
                                   guint                max,
                                   const char          *invalid,
                                   guint               *value,
                                   GError             **error);
/* A string, or a ;-separated list, of @group: NULL in @value when @key is
 * not set; an empty list value is an empty list. GKeyFile's escapes are
 * checked first (GLib 2.74 sets its GError twice, with a warning, on an
 * invalid escape before a backslash that ends the value). */
gboolean _sonde_format_read_string      (GKeyFile    *keyfile,
                                         const char  *group,
                                         const char  *key,
                                         char       **value,
                                         GError     **error);
gboolean _sonde_format_read_string_list (GKeyFile    *keyfile,
                                         const char  *group,
                                         const char  *key,
                                         GStrv       *value,
                                         GError     **error);

G_END_DECLS
