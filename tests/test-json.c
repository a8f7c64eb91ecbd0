/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include "sonde.h"
#include "sonde-json-private.h"
#include "sonde-native-frames-private.h"

static char *
bytes_to_string (GBytes *bytes)
{
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  return g_strndup (data, length);
}

static char *
encode (const char *json)
{
  g_autoptr(JsonNode) node = json_from_string (json, NULL);
  g_autoptr(GBytes) bytes = _sonde_json_node_to_bytes (node);

  return bytes_to_string (bytes);
}

static void
test_json_doubles_are_short (void)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;

  json_object_set_double_member (object, "a", 0.39);
  json_object_set_double_member (object, "b", 100.0);
  json_object_set_double_member (object, "c", 1.0 / 3.0);
  json_object_set_double_member (object, "d", 1e-7);
  json_object_set_double_member (object, "e", NAN);
  json_object_set_int_member (object, "f", -42);
  bytes = _sonde_json_object_to_bytes (object);
  text = bytes_to_string (bytes);

  g_assert_cmpstr (text, ==, "{\"a\":0.39,\"b\":100.0,\"c\":0.3333333333333333,\"d\":1e-07,\"e\":null,\"f\":-42}");
}

static void
test_json_round_trip (void)
{
  const char *cases[] = {
    "{\"s\":\"quote \\\" backslash \\\\ newline \\n tab \\t ctrl \\u0001\"}",
    "[true,false,null,[],{}]",
    "{\"nested\":{\"list\":[1,2.5,\"x\"]}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *once = encode (cases[i]);
      g_autofree char *twice = encode (once);
      g_autoptr(JsonNode) a = json_from_string (cases[i], NULL);
      g_autoptr(JsonNode) b = json_from_string (once, NULL);

      g_assert_true (json_node_equal (a, b));
      g_assert_cmpstr (once, ==, twice);
    }
}

static void
test_json_invalid_utf8_is_repaired (void)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(GBytes) bytes = NULL;
  gsize length;
  const char *data;

  /* A process may name itself with any bytes. */
  json_object_set_string_member (object, "name", "bad\xff\xfename");
  bytes = _sonde_json_object_to_bytes (object);
  data = g_bytes_get_data (bytes, &length);
  g_assert_true (g_utf8_validate (data, length, NULL));
}

static void
test_json_timestamp_format (void)
{
  g_autofree char *a = _sonde_format_timestamp (G_GINT64_CONSTANT (1795000000123456));
  g_autofree char *b = _sonde_format_timestamp (0);

  g_assert_cmpstr (a, ==, "2026-11-18T11:06:40.123Z");
  g_assert_cmpstr (b, ==, "1970-01-01T00:00:00.000Z");
}

static void
test_json_parse_bounded (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GString) deep = g_string_new (NULL);

  node = _sonde_json_parse_bounded ("{\"type\":\"ping\"}", 15, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_clear_pointer (&node, json_node_unref);

  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  node = _sonde_json_parse_bounded (deep->str, deep->len, &error);
  g_assert_null (node);
  g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Brackets inside strings don't count as nesting. */
  {
    g_autofree char *text = g_strdup_printf ("{\"a\":\"%s\"}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");

    node = _sonde_json_parse_bounded (text, strlen (text), &error);
  }
  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_clear_pointer (&node, json_node_unref);

  node = _sonde_json_parse_bounded ("\xff{}", 3, &error);
  g_assert_null (node);
  g_assert_nonnull (error);
  g_clear_error (&error);

  node = _sonde_json_parse_bounded ("", 0, &error);
  g_assert_null (node);
  g_assert_nonnull (error);
}

/* Each of @refused is refused as invalid, each of @accepted parses. */
static void
assert_bounded_verdicts (const char * const *refused,
                         gsize               n_refused,
                         const char * const *accepted,
                         gsize               n_accepted)
{
  for (gsize i = 0; i < n_refused; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = _sonde_json_parse_bounded (refused[i], strlen (refused[i]), &error);

      g_assert_null (node);
      g_assert_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT);
    }

  for (gsize i = 0; i < n_accepted; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = _sonde_json_parse_bounded (accepted[i], strlen (accepted[i]), &error);

      g_assert_no_error (error);
      g_assert_nonnull (node);
    }
}

/* Found by tests/fuzz/fuzz-json: json-glib 1.6 reads a second value
 * after a scalar ("2[]") and leaks it, so that every client message
 * could leak memory in the server. One value, and whitespace around it,
 * is all that is accepted. */
static void
test_json_parse_bounded_one_value (void)
{
  const char * const refused[] = {
    "2[]", "1{}", "{}{}", "[1][2]", "1 2", "\"a\"\"b\"", "true[[[]]]", "null{\"a\":[1,2]}",
    "var a = 1;", "{\"type\":\"ping\"} [[1]]", "[1]]", "\"x\"1", "0 ,",
  };
  const char * const accepted[] = {
    "2", " {\"a\":1} \n", "\"x\" ", "\r\ttrue\n", "[[],{}]", "-1.5e3", "\"a]\\\"[\"",
  };

  assert_bounded_verdicts (refused, G_N_ELEMENTS (refused), accepted, G_N_ELEMENTS (accepted));
}

/* Found by tests/fuzz/fuzz-json: json-glib 1.6 leaks the string it was
 * reading when a high surrogate is followed by another \u escape than a
 * low surrogate. Every \u escape is checked first. */
static void
test_json_parse_bounded_unicode_escapes (void)
{
  const char * const refused[] = {
    "\"\\ud800\\u0041\"", "\"\\ud800\\u\"", "\"x\\ud800\\ud800\"", "[\"\\ud83d\\e9\\ud83d\\uude00\"]",
    "\"\\ud800x\"", "\"\\udc00\"", "\"\\uZZZZ\"", "\"\\u12\"", "{\"a\":\"\\ud800\"}",
  };
  const char * const accepted[] = {
    "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\udbff\\udfff\\u0041\"", "[\"\\\\u\"]", "\"\\uABCDx\"",
  };

  assert_bounded_verdicts (refused, G_N_ELEMENTS (refused), accepted, G_N_ELEMENTS (accepted));
}

/* Found by tests/fuzz/fuzz-servercontrol: json-glib 1.6 reads escapes
 * JSON does not have (\q as q, \x41 as x41, \2 as U+0002) and octal
 * ones, \222 becoming the byte 0x92: a string that is not UTF-8 from a
 * message that is. Only JSON's escapes pass. */
static void
test_json_parse_bounded_other_escapes (void)
{
  const char * const refused[] = {
    "\"\\q\"", "[\"\\x41\"]", "[\"\\222\"]", "{\"\\2\":1}", "\"\\'\"", "\"a\\",
    "{\"c,\\\\\\\\\\\\\\22222\"}",
  };
  const char * const accepted[] = {
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "[\"\\\\222\"]", "{\"a\\/b\":\"\\u0041\"}",
  };

  assert_bounded_verdicts (refused, G_N_ELEMENTS (refused), accepted, G_N_ELEMENTS (accepted));
}

/* Found by tests/fuzz/fuzz-servercontrol: json-glib 1.6 quotes a long
 * string constant in its error, cut at a byte count in the middle of a
 * character; the message went to the client. */
static void
test_json_parse_bounded_error_is_utf8 (void)
{
  const char *text = "{\"argv\" :[\"\", \"\", \"aX\\ufff33\\\"X\\ufff3333\\\"$u3333\\\"X\\ufff33\\\"X\\uffff33\\\"X\\uff3333\\\"$u3 \"\", \"#\"]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = _sonde_json_parse_bounded (text, strlen (text), &error);

  g_assert_null (root);
  g_assert_nonnull (error);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
test_frame_add_dropped (void)
{
  g_autoptr(GBytes) frame = g_bytes_new_static ("{\"type\":\"snapshot\",\"seq\":7}", 27);
  g_autoptr(GBytes) empty = g_bytes_new_static ("{}", 2);
  g_autoptr(GBytes) spliced = _sonde_frame_add_dropped (frame, 3);
  g_autoptr(GBytes) spliced_empty = _sonde_frame_add_dropped (empty, 1);
  g_autofree char *text = bytes_to_string (spliced);
  g_autofree char *text_empty = bytes_to_string (spliced_empty);

  g_assert_cmpstr (text, ==, "{\"dropped\":3,\"type\":\"snapshot\",\"seq\":7}");
  g_assert_cmpstr (text_empty, ==, "{\"dropped\":1}");
}

static void
test_error_frame (void)
{
  g_autoptr(GBytes) with_id = _sonde_error_frame_new ("unknown_metric", "Unknown metric 'x.y'", "sub");
  g_autoptr(GBytes) without = _sonde_error_frame_new ("bad_json", "Expected a JSON object", NULL);
  g_autofree char *a = bytes_to_string (with_id);
  g_autofree char *b = bytes_to_string (without);

  g_assert_cmpstr (a, ==, "{\"type\":\"error\",\"code\":\"unknown_metric\",\"message\":\"Unknown metric 'x.y'\",\"subscription\":\"sub\"}");
  g_assert_cmpstr (b, ==, "{\"type\":\"error\",\"code\":\"bad_json\",\"message\":\"Expected a JSON object\",\"subscription\":null}");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/json/doubles-are-short", test_json_doubles_are_short);
  g_test_add_func ("/json/round-trip", test_json_round_trip);
  g_test_add_func ("/json/invalid-utf8", test_json_invalid_utf8_is_repaired);
  g_test_add_func ("/json/timestamp", test_json_timestamp_format);
  g_test_add_func ("/json/parse-bounded", test_json_parse_bounded);
  g_test_add_func ("/json/parse-bounded/one-value", test_json_parse_bounded_one_value);
  g_test_add_func ("/json/parse-bounded/unicode-escapes", test_json_parse_bounded_unicode_escapes);
  g_test_add_func ("/json/parse-bounded/other-escapes", test_json_parse_bounded_other_escapes);
  g_test_add_func ("/json/parse-bounded/error-is-utf8", test_json_parse_bounded_error_is_utf8);
  g_test_add_func ("/frames/add-dropped", test_frame_add_dropped);
  g_test_add_func ("/frames/error", test_error_frame);

  return g_test_run ();
}
