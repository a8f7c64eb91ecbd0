/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-rest-private.h"
#include "sonde-server-private.h"
#include "sonde-ui-private.h"
#include "ui/sonde-ui-resources.h"

/* The web dashboard. The page and its assets are compiled into the library
 * (data/ui/sonde-ui.gresource.xml), so a sonded binary serves it with
 * nothing installed beside it and no directory on disk to look files up
 * in: a request can only ever name one of the files below, never a path.
 *
 * GET /           the page (index.html), revalidated on every load
 * GET /ui/NAME    its assets; the page links them as /ui/NAME?v=HASH, which
 *                 may be cached for good since another build links
 *                 another HASH
 *
 * The page holds no data: it reads everything over /ws/v1. It is an entry
 * of the format table (docs/architecture.md) whose routes are guarded as
 * public: the page and its assets load without the token, so that the
 * page can ask for it; every other path still needs it. */

#define UI_RESOURCE_DIR "/org/sonde/Sonde/ui/"
#define UI_ASSET_PREFIX "/ui/"
#define UI_INDEX        "index.html"

/* Assets requested with their current ?v= may be kept a year: they never
 * change under that URL. */
#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"

typedef struct
{
  GBytes     *body;
  const char *content_type;
  char       *etag;      /* quoted, as sent in ETag */
  char       *version;   /* the ?v= the page links this file with */
} UiFile;

typedef struct
{
  UiFile     *index;
  GHashTable *assets;    /* name (no directory) -> UiFile */
} UiSite;

static const struct {
  const char *suffix;
  const char *content_type;
} content_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".js", "application/javascript; charset=utf-8" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".ico", "image/x-icon" },
  { ".woff2", "font/woff2" },
  { ".json", "application/json" },
  { ".txt", "text/plain; charset=utf-8" },
};

static const char *
content_type_for (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (content_types); i++)
    if (g_str_has_suffix (name, content_types[i].suffix))
      return content_types[i].content_type;

  /* With nosniff, nothing unknown is ever run or rendered. */
  return "application/octet-stream";
}

static void
ui_file_free (gpointer data)
{
  UiFile *file = data;

  g_bytes_unref (file->body);
  g_free (file->etag);
  g_free (file->version);
  g_free (file);
}

static UiFile *
ui_file_new (const char *name,
             GBytes     *body)
{
  UiFile *file = g_new0 (UiFile, 1);
  g_autofree char *digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, body);

  file->body = g_bytes_ref (body);
  file->content_type = content_type_for (name);
  /* 64 bits of the digest: enough to tell two builds apart. */
  file->version = g_strndup (digest, 16);
  file->etag = g_strdup_printf ("\"%s\"", file->version);
  return file;
}

static void
ui_site_free (gpointer data)
{
  UiSite *site = data;

  g_clear_pointer (&site->index, ui_file_free);
  g_clear_pointer (&site->assets, g_hash_table_unref);
  g_free (site);
}

/* Links the page's assets by their versioned URL: "/ui/NAME" becomes
 * "/ui/NAME?v=HASH", so that a browser keeps each asset until a build
 * changes it, and never mixes the page of one build with a script of
 * another. */
static GBytes *
version_asset_links (GBytes     *index,
                     GHashTable *assets)
{
  GString *text = g_string_new_len (g_bytes_get_data (index, NULL), g_bytes_get_size (index));
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, assets);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const UiFile *file = value;
      g_autofree char *plain = g_strdup_printf ("\"" UI_ASSET_PREFIX "%s\"", (const char *) key);
      g_autofree char *versioned = g_strdup_printf ("\"" UI_ASSET_PREFIX "%s?v=%s\"",
                                                    (const char *) key, file->version);

      g_string_replace (text, plain, versioned, 0);
    }

  return g_string_free_to_bytes (text);
}

static UiSite *
ui_site_new (void)
{
  GResource *resource = _sonde_ui_get_resource ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GBytes) index = NULL;
  UiSite *site = g_new0 (UiSite, 1);

  site->assets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, ui_file_free);

  /* The resource is built into the library: failing to read it is a
   * broken build, not a condition to serve around. */
  names = g_resource_enumerate_children (resource, UI_RESOURCE_DIR, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  g_assert_no_error (error);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GBytes) body = NULL;

      /* Flat on purpose: a name never holds a '/'. */
      if (g_str_has_suffix (names[i], "/") || g_str_equal (names[i], UI_INDEX))
        continue;

      path = g_strconcat (UI_RESOURCE_DIR, names[i], NULL);
      body = g_resource_lookup_data (resource, path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      g_assert_no_error (error);
      g_hash_table_insert (site->assets, g_strdup (names[i]), ui_file_new (names[i], body));
    }

  index = g_resource_lookup_data (resource, UI_RESOURCE_DIR UI_INDEX, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GBytes) linked = version_asset_links (index, site->assets);
    site->index = ui_file_new (UI_INDEX, linked);
  }

  return site;
}

/* A Host header fit to be written into a policy: a name or an address, and
 * a port. Anything else (it is the client's text) is left out. */
static gboolean
is_plain_host (const char *host)
{
  const char *p = host;
  gsize length;

  if (host == NULL)
    return FALSE;
  length = strlen (host);
  if (length == 0 || length > 255)
    return FALSE;

  if (*p == '[')
    {
      for (p++; g_ascii_isxdigit (*p) || *p == ':' || *p == '.'; p++)
        ;
      if (*p++ != ']')
        return FALSE;
    }
  else
    {
      if (!g_ascii_isalnum (*p))
        return FALSE;
      for (; g_ascii_isalnum (*p) || *p == '.' || *p == '-'; p++)
        ;
    }

  if (*p == ':')
    {
      if (!g_ascii_isdigit (p[1]))
        return FALSE;
      for (p++; g_ascii_isdigit (*p); p++)
        ;
    }

  return *p == '\0';
}

/* The page may talk to this daemon only, and is run nowhere else. Not every
 * browser counts ws: and wss: as 'self', so the WebSocket origin is named:
 * the Host the page was requested from, on the scheme it was requested
 * with. */
static char *
build_content_security_policy (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  const char *host = soup_message_headers_get_one (request, "Host");
  const char *scheme = g_uri_get_scheme (soup_server_message_get_uri (msg));
  gboolean tls = scheme != NULL && g_ascii_strcasecmp (scheme, "https") == 0;
  g_autofree char *websocket = NULL;

  if (is_plain_host (host))
    websocket = g_strdup_printf (" %s://%s", tls ? "wss" : "ws", host);

  return g_strdup_printf ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'%s; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'",
                          websocket ? websocket : "");
}

/* On every answer of the page's routes, errors included. */
static void
add_security_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *policy = build_content_security_policy (msg);

  soup_message_headers_replace (headers, "Content-Security-Policy", policy);
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "X-Frame-Options", "DENY");
  soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (headers, "Cross-Origin-Opener-Policy", "same-origin");
  soup_message_headers_replace (headers, "Cross-Origin-Resource-Policy", "same-origin");
}

static void
respond_not_found (SoupServerMessage *msg,
                   const char        *path)
{
  add_security_headers (msg);
  _sonde_rest_respond_not_found (msg, path);
}

/* If-None-Match holds @etag (or "*"): weak or strong, a list or one. */
static gboolean
etag_matches (const char *if_none_match,
              const char *etag)
{
  g_auto(GStrv) candidates = NULL;

  if (if_none_match == NULL)
    return FALSE;

  candidates = g_strsplit (if_none_match, ",", -1);
  for (guint i = 0; candidates[i] != NULL; i++)
    {
      const char *candidate = g_strstrip (candidates[i]);

      if (g_str_has_prefix (candidate, "W/"))
        candidate += 2;
      if (g_str_equal (candidate, "*") || g_str_equal (candidate, etag))
        return TRUE;
    }

  return FALSE;
}

static void
serve_file (SoupServerMessage *msg,
            const UiFile      *file,
            const char        *cache_control)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);

  add_security_headers (msg);

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      soup_message_headers_replace (headers, "Allow", "GET, HEAD");
      _sonde_rest_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                                 "Only GET is allowed here");
      return;
    }

  soup_message_headers_replace (headers, "ETag", file->etag);
  soup_message_headers_replace (headers, "Cache-Control", cache_control);

  if (etag_matches (soup_message_headers_get_one (request, "If-None-Match"), file->etag))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
      return;
    }

  soup_message_headers_replace (headers, "Content-Type", file->content_type);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), file->body);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* "/" is the fallback route of every path without one of its own: only
 * "/" itself is the page. */
static void
root_cb (SoupServer        *soup_server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  const UiSite *site = user_data;

  if (!g_str_equal (path, "/"))
    {
      respond_not_found (msg, path);
      return;
    }

  /* Revalidated at every load (a 304 while unchanged): the page names the
   * assets of the build that serves it. */
  serve_file (msg, site->index, "no-cache");
}

/* The name of the asset @path asks for, exactly as the resource holds it;
 * NULL for anything else. No decoding and no normalisation: "..",
 * "%2e%2e", "%2f", backslashes and the like are simply not names there. */
static const char *
asset_name (const char *path)
{
  const char *name;

  if (!g_str_has_prefix (path, UI_ASSET_PREFIX))
    return NULL;

  name = path + strlen (UI_ASSET_PREFIX);
  /* The resource is flat and its files have plain names; checking the
   * characters first keeps odd names out of the lookups altogether. */
  if (*name == '\0' || *name == '.')
    return NULL;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return NULL;
  if (g_str_equal (name, UI_INDEX))
    return NULL;

  return name;
}

static void
asset_cb (SoupServer        *soup_server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  const UiSite *site = user_data;
  const char *name = asset_name (path);
  const UiFile *file = name ? g_hash_table_lookup (site->assets, name) : NULL;
  const char *version = query ? g_hash_table_lookup (query, "v") : NULL;

  if (file == NULL)
    {
      respond_not_found (msg, path);
      return;
    }

  serve_file (msg, file,
              g_strcmp0 (version, file->version) == 0 ? CACHE_IMMUTABLE : "no-cache");
}

/* The paths the access checks let through without a token: the page and
 * the assets the site holds, nothing else of "/" and "/ui". */
static gboolean
is_public_cb (const char *path,
              gpointer    user_data)
{
  const UiSite *site = user_data;
  const char *name;

  if (g_str_equal (path, "/"))
    return TRUE;

  name = asset_name (path);
  return name != NULL && g_hash_table_contains (site->assets, name);
}

static void
register_ui (SondeServer *server,
             gpointer     state,
             SoupServer  *soup_server,
             const char  *path)
{
  UiSite *site = state;

  g_assert (g_str_equal (path, "/"));

  /* "/" is also the fallback of every path without a route: root_cb
   * answers those 404, as the server core's own "/" route would. */
  soup_server_add_handler (soup_server, "/", root_cb, site, NULL);
  _sonde_server_guard_public_path (server, soup_server, "/", is_public_cb, site, NULL);

  soup_server_add_handler (soup_server, "/ui", asset_cb, site, NULL);
  _sonde_server_guard_public_path (server, soup_server, "/ui", is_public_cb, site, NULL);
}

static gpointer
ui_state_new (SondeServer *server)
{
  return ui_site_new ();
}

static const SondeFormatListener ui_listeners[] = {
  /* On the main listener only: the page is the daemon's own. */
  { "ui", "/", NULL, 0, register_ui },
  { NULL }
};

const SondeFormat _sonde_ui_format = {
  .name = "ui",
  .listeners = ui_listeners,
  .state_new = ui_state_new,
  .state_free = ui_site_free,
};
