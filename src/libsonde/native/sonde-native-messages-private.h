/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The native protocol's client messages, read: text in, a message or an
 * error frame's code and message out. No server, connection or engine is
 * involved, so that the parser can be tested and fuzzed on its own; what
 * depends on the server's state (how many subscriptions a client has,
 * whether a metric exists, which subscription an unsubscribe names) is
 * the client's to check, in sonde-native-client.c.
 */

typedef enum
{
  SONDE_NATIVE_MESSAGE_SUBSCRIBE,
  SONDE_NATIVE_MESSAGE_UNSUBSCRIBE,
  SONDE_NATIVE_MESSAGE_PING,
  SONDE_NATIVE_MESSAGE_CATALOG,
} SondeNativeMessageType;

typedef struct
{
  SondeNativeMessageType type;
  char     *id;               /* subscribe, unsubscribe: "default" when absent */
  JsonNode *ping_id;          /* ping: its "id" (any JSON value), or NULL */
  GStrv     metrics;          /* subscribe: the patterns, or NULL for all ("*") */
  GStrv     events;           /* subscribe: known event types, or NULL */
  guint     interval_ms;      /* subscribe: within the bounds given */
  guint     history_seconds;  /* subscribe: 0-3600 */
  char     *host;             /* subscribe: another host's data (a hub's agent), or NULL */
} SondeNativeMessage;

typedef struct
{
  const char *code;           /* the error frame's "code": bad_json, invalid_subscription,
                               * interval_out_of_range */
  char       *message;
  char       *subscription;   /* its "subscription", or NULL */
} SondeNativeMessageError;

#define SONDE_NATIVE_MAX_SUBSCRIPTION_ID 64
#define SONDE_NATIVE_MAX_HISTORY_SECONDS 3600

/* Reads one text frame. Returns TRUE with @message filled, or FALSE with
 * @error filled; clear whichever was filled. */
gboolean _sonde_native_message_parse         (const char              *text,
                                              gsize                    length,
                                              guint                    interval_min_ms,
                                              guint                    interval_max_ms,
                                              SondeNativeMessage      *message,
                                              SondeNativeMessageError *error);
void     _sonde_native_message_clear         (SondeNativeMessage      *message);
void     _sonde_native_message_error_clear   (SondeNativeMessageError *error);

/* 1 s, unless the bounds exclude it. */
guint    _sonde_native_default_interval      (guint                    interval_min_ms,
                                              guint                    interval_max_ms);
gboolean _sonde_native_is_known_event        (const char              *event_type);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SondeNativeMessage, _sonde_native_message_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SondeNativeMessageError, _sonde_native_message_error_clear)

G_END_DECLS
