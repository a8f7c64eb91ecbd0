/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

char   *_sonde_format_timestamp   (gint64       timestamp_us);
char   *_sonde_format_timestamp_seconds (gint64 timestamp_us);
void    _sonde_append_double      (GString     *out,
                                   double       value);
/* @text as a JSON string literal, quotes included, made valid UTF-8. */
void    _sonde_append_json_string (GString     *out,
                                   const char  *text);
void    _sonde_json_append_node   (GString     *out,
                                   JsonNode    *node);
GBytes *_sonde_json_object_to_bytes (JsonObject *object);
GBytes *_sonde_json_node_to_bytes (JsonNode    *node);
GBytes *_sonde_error_frame_new    (const char  *code,
                                   const char  *message,
                                   const char  *subscription);
JsonNode *_sonde_json_parse_bounded (const char *text,
                                     gsize       length,
                                     GError    **error);
/* @member of @object if it is a string, else NULL. For what clients
 * send: json_object_get_string_member_with_default() logs a critical
 * when the member is an object or an array. */
const char *_sonde_json_get_string_member (JsonObject *object,
                                           const char *member);

G_END_DECLS
