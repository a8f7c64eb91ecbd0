/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-filter-private.h"
#include "sonde-json-private.h"
#include "sonde-native-messages-private.h"

#include "fuzz-util.h"

/*
 * A client message of the native protocol (/ws/v1), read as the server
 * reads it, then taken as far as the server takes it without a
 * connection: a subscribe's patterns become a filter over a small fixed
 * catalog, an error or a ping becomes the frame sent back, which must be
 * JSON. The server's interval bounds are the defaults, or, when the input
 * starts with a byte below 0x08, a pair chosen by that byte.
 */

static const guint bounds[][2] = {
  { 100, 60000 },   /* the defaults */
  { 1000, 1000 },
  { 100, 100 },
  { 60000, 60000 },
  { 250, 5000 },
  { 2000, 30000 },
  { 100, 999 },
  { 1001, 60000 },
};

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  fuzz_engine_get ();
  return 0;
}

static void
check_subscribe (SondeNativeMessage *message,
                 guint               min_ms,
                 guint               max_ms)
{
  static const char * const everything[] = { "*", NULL };
  SondeCatalog *catalog = _sonde_engine_get_catalog (fuzz_engine_get ());
  const char * const *patterns = message->metrics ? (const char * const *) message->metrics : everything;
  g_autoptr(SondeFilter) filter = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *metrics;

  fuzz_check (message->id != NULL && *message->id != '\0' &&
              strlen (message->id) <= SONDE_NATIVE_MAX_SUBSCRIPTION_ID, "bad id");
  fuzz_check (message->interval_ms >= min_ms && message->interval_ms <= max_ms,
              "interval %u outside %u-%u", message->interval_ms, min_ms, max_ms);
  fuzz_check (message->history_seconds <= SONDE_NATIVE_MAX_HISTORY_SECONDS, "history %u",
              message->history_seconds);
  for (guint i = 0; message->events != NULL && message->events[i] != NULL; i++)
    fuzz_check (_sonde_native_is_known_event (message->events[i]), "event %s", message->events[i]);

  /* As add_subscription() does. */
  filter = _sonde_filter_new (catalog, patterns, &error);
  if (filter == NULL)
    {
      g_autoptr(GBytes) frame = _sonde_error_frame_new ("unknown_metric", error->message, message->id);

      fuzz_assert_json_bytes (frame);
      return;
    }

  fuzz_check (_sonde_filter_get_key (filter) != NULL, "no key");
  metrics = _sonde_catalog_get_metrics (catalog);
  for (guint i = 0; i < metrics->len; i++)
    {
      SondeMetric *metric = g_ptr_array_index (metrics, i);

      _sonde_filter_matches (filter, sonde_metric_get_collector (metric), sonde_metric_get_field (metric));
      _sonde_filter_wants_collector (filter, sonde_metric_get_collector (metric));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_auto(SondeNativeMessage) message = { 0, };
  g_auto(SondeNativeMessageError) error = { 0, };
  guint min_ms = bounds[0][0], max_ms = bounds[0][1];

  if (size > 0 && data[0] < G_N_ELEMENTS (bounds))
    {
      min_ms = bounds[data[0]][0];
      max_ms = bounds[data[0]][1];
      data++;
      size--;
    }

  if (!_sonde_native_message_parse ((const char *) data, size, min_ms, max_ms, &message, &error))
    {
      g_autoptr(GBytes) frame = NULL;

      fuzz_check (error.code != NULL && error.message != NULL, "error without code or message");
      frame = _sonde_error_frame_new (error.code, error.message, error.subscription);
      fuzz_assert_json_bytes (frame);
      return 0;
    }

  switch (message.type)
    {
    case SONDE_NATIVE_MESSAGE_SUBSCRIBE:
      check_subscribe (&message, min_ms, max_ms);
      break;

    case SONDE_NATIVE_MESSAGE_UNSUBSCRIBE:
      {
        g_autofree char *text = g_strdup_printf ("No subscription with id '%s'", message.id);
        g_autoptr(GBytes) frame = _sonde_error_frame_new ("invalid_subscription", text, NULL);

        fuzz_assert_json_bytes (frame);
      }
      break;

    case SONDE_NATIVE_MESSAGE_PING:
      {
        g_autoptr(JsonObject) pong = json_object_new ();
        g_autoptr(GBytes) frame = NULL;

        json_object_set_string_member (pong, "type", "pong");
        if (message.ping_id != NULL)
          json_object_set_member (pong, "id", json_node_copy (message.ping_id));
        frame = _sonde_json_object_to_bytes (pong);
        fuzz_assert_json_bytes (frame);
      }
      break;

    case SONDE_NATIVE_MESSAGE_CATALOG:
      break;

    default:
      fuzz_check (FALSE, "message type %d", message.type);
    }

  return 0;
}
