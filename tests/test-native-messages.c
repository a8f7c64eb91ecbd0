/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde.h"
#include "sonde-native-messages-private.h"

/* The native protocol's message parser, without a server: what
 * test-ws-errors checks over a WebSocket, plus the inputs that
 * tests/fuzz/fuzz-native-message found. */

typedef struct
{
  const char *text;
  const char *code;           /* NULL: accepted */
  const char *subscription;   /* of the error */
} Case;

static const Case cases[] = {
  { "{\"type\":\"catalog\"}", NULL, NULL },
  { "{\"type\":\"ping\",\"id\":{\"a\":[1]}}", NULL, NULL },
  { "{\"type\":\"subscribe\"}", NULL, NULL },
  { "{\"type\":\"unsubscribe\",\"id\":\"a\"}", NULL, NULL },
  { "{\"type\":\"subscribe\",\"interval_ms\":1000.0}", NULL, NULL },
  { "{not json", "bad_json", NULL },
  { "[1]", "bad_json", NULL },
  { "{\"type\":42}", "bad_json", NULL },
  { "{\"type\":\"hello\"}", "bad_json", NULL },
  { "{\"type\":\"subscribe\",\"id\":7}", "invalid_subscription", NULL },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"metrics\":[]}", "invalid_subscription", "s1" },
  { "{\"type\":\"subscribe\",\"events\":[\"nope\"]}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"id\":\"s1\",\"interval_ms\":50}", "interval_out_of_range", "s1" },
  { "{\"type\":\"subscribe\",\"interval_ms\":250.5}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"history_seconds\":3601}", "invalid_subscription", "default" },
  { "{\"type\":\"unsubscribe\",\"id\":[]}", "invalid_subscription", NULL },
  /* Found by fuzz-native-message: json-glib reads 1e400 as infinity, and
   * converting it (or 1e19) to gint64 was undefined behaviour. */
  { "{\"type\":\"subscribe\",\"interval_ms\":1e400}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"interval_ms\":-1e400}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"interval_ms\":1e19}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"interval_ms\":-9.3e18}", "invalid_subscription", "default" },
  { "{\"type\":\"subscribe\",\"interval_ms\":-9.2233720368547758e18}", "interval_out_of_range", "default" },
  { "{\"type\":\"subscribe\",\"history_seconds\":1e400}", "invalid_subscription", "default" },
};

static void
test_case (gconstpointer data)
{
  const Case *test = data;
  g_auto(SondeNativeMessage) message = { 0, };
  g_auto(SondeNativeMessageError) error = { 0, };
  gboolean ok;

  ok = _sonde_native_message_parse (test->text, strlen (test->text), 100, 60000, &message, &error);
  if (test->code == NULL)
    {
      g_assert_true (ok);
      g_assert_null (error.code);
      return;
    }

  g_assert_false (ok);
  g_assert_cmpstr (error.code, ==, test->code);
  g_assert_nonnull (error.message);
  g_assert_cmpstr (error.subscription, ==, test->subscription);
}

static void
test_subscribe_fields (void)
{
  const char *text = "{\"type\":\"subscribe\",\"id\":\"a.b:c\",\"metrics\":[\"cpu.*\",\"memory\"],"
                     "\"events\":[\"alert\",\"log_line\"],\"interval_ms\":500,\"history_seconds\":60}";
  g_auto(SondeNativeMessage) message = { 0, };
  g_auto(SondeNativeMessageError) error = { 0, };

  g_assert_true (_sonde_native_message_parse (text, strlen (text), 100, 60000, &message, &error));
  g_assert_cmpint (message.type, ==, SONDE_NATIVE_MESSAGE_SUBSCRIBE);
  g_assert_cmpstr (message.id, ==, "a.b:c");
  g_assert_cmpstrv (message.metrics, ((const char * const []) { "cpu.*", "memory", NULL }));
  g_assert_cmpstrv (message.events, ((const char * const []) { "alert", "log_line", NULL }));
  g_assert_cmpuint (message.interval_ms, ==, 500);
  g_assert_cmpuint (message.history_seconds, ==, 60);
}

static void
test_default_interval (void)
{
  const char *text = "{\"type\":\"subscribe\"}";
  g_auto(SondeNativeMessage) message = { 0, };
  g_auto(SondeNativeMessageError) error = { 0, };

  /* 1 s unless the server's bounds exclude it. */
  g_assert_true (_sonde_native_message_parse (text, strlen (text), 2000, 5000, &message, &error));
  g_assert_cmpstr (message.id, ==, "default");
  g_assert_null (message.metrics);
  g_assert_cmpuint (message.interval_ms, ==, 2000);
  g_assert_cmpuint (_sonde_native_default_interval (100, 500), ==, 500);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/native-messages/case/%u", i);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/native-messages/subscribe-fields", test_subscribe_fields);
  g_test_add_func ("/native-messages/default-interval", test_default_interval);

  return g_test_run ();
}
