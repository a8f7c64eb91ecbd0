/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-json-private.h"

#include "fuzz-util.h"

/*
 * _sonde_json_parse_bounded(), which every JSON message from a client
 * goes through (native, kairos, resolvix control, discovery probes).
 * Besides crashes, leaks and undefined behaviour, it checks what the
 * function promises: nothing deeper than 64 levels gets through, and
 * what got through is written back by Sonde's own writer as JSON that
 * reads back the same (so an echoed value, such as a ping's id, is
 * well-formed).
 */

#define MAX_DEPTH 64

static guint
depth_of (JsonNode *node)
{
  guint deepest = 0;

  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        JsonNode *child;

        json_object_iter_init (&iter, json_node_get_object (node));
        while (json_object_iter_next (&iter, NULL, &child))
          {
            guint depth = depth_of (child);

            deepest = MAX (deepest, depth);
          }
        return deepest + 1;
      }

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            guint depth = depth_of (json_array_get_element (array, i));

            deepest = MAX (deepest, depth);
          }
        return deepest + 1;
      }

    case JSON_NODE_VALUE:
    case JSON_NODE_NULL:
    default:
      return 0;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(GBytes) written = NULL;
  g_autoptr(GBytes) rewritten = NULL;
  const char *text;
  gsize length;
  guint depth;

  root = _sonde_json_parse_bounded ((const char *) data, size, &error);
  if (root == NULL)
    {
      fuzz_check (error != NULL && error->message != NULL, "no error set");
      return 0;
    }
  fuzz_check (error == NULL, "an error with a result: %s", error->message);

  depth = depth_of (root);
  fuzz_check (depth <= MAX_DEPTH, "nested %u levels deep", depth);

  written = _sonde_json_node_to_bytes (root);
  fuzz_assert_json_bytes (written);

  /* What Sonde wrote, read back and written again, is the same text. */
  text = g_bytes_get_data (written, &length);
  again = _sonde_json_parse_bounded (text, length, &error);
  fuzz_check (again != NULL, "Sonde's own JSON is refused (%s): %.*s",
              error->message, (int) length, text);
  rewritten = _sonde_json_node_to_bytes (again);
  fuzz_check (g_bytes_equal (written, rewritten), "not stable: %.*s", (int) length, text);

  return 0;
}
