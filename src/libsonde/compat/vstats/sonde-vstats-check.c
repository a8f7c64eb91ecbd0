/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sonde-error.h"
#include "sonde-json-private.h"
#include "sonde-server-private.h"
#include "sonde-vstats-private.h"

/*
 * What an agent sends, read from text alone (tests/fuzz feeds it
 * anything). Its report, checked: every member the hub keeps is read with its
 * type and range checked, and copied into a new object in the
 * dashboards' shape (sonde-vstats-report.c), so that nothing an agent
 * sent reaches a dashboard unchecked, and nothing it added beyond the
 * format is passed on.
 */

/* Bytes no machine has: JSON numbers beyond this are not sizes. */
#define MAX_BYTES     9.0e18
#define MAX_CORES     65536
#define MAX_MHZ       1.0e6
#define MAX_LOAD      1.0e6
#define MAX_UPTIME    1.0e10
/* Strings and arrays an agent may send; longer is refused. */
#define MAX_HOSTNAME  253
#define MAX_NAME      128
#define MAX_PATH      1024
#define MAX_CPUS      1024
#define MAX_DISKS     256
#define MAX_IFACES    256
/* 2000-01-01T00:00:00Z, and how far ahead an agent's clock may be. */
#define MIN_TIMESTAMP_US   (G_GINT64_CONSTANT (946684800) * G_USEC_PER_SEC)
#define MAX_CLOCK_AHEAD_US (G_GINT64_CONSTANT (300) * G_USEC_PER_SEC)

/* Each check names the member as the agent wrote it ("cpu.usage"). A
 * missing member or null is absent, which is allowed: agents of other
 * platforms lack some. A present member of the wrong type or out of range
 * refuses the whole report. */

static gboolean
fail (GError    **error,
      const char *path,
      const char *what)
{
  g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "%s: %s", path, what);
  return FALSE;
}

static JsonNode *
get_present (JsonObject *object,
             const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node != NULL && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

gboolean
_sonde_vstats_is_number (JsonNode *node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* A number within [min, max], copied to @to as @name: an integer when
 * @integral, else a double. */
static gboolean
check_number (JsonObject *to,
              const char *name,
              JsonNode   *node,
              const char *path,
              double      min,
              double      max,
              gboolean    integral,
              GError    **error)
{
  double value;

  if (!_sonde_vstats_is_number (node))
    return fail (error, path, "must be a number");

  value = json_node_get_double (node);
  if (!isfinite (value) || value < min || value > max)
    {
      g_autofree char *what = g_strdup_printf ("must be a number from %.15g to %.15g", min, max);
      return fail (error, path, what);
    }

  if (integral && json_node_get_value_type (node) == G_TYPE_INT64)
    json_object_set_int_member (to, name, json_node_get_int (node));
  else if (integral)
    json_object_set_int_member (to, name, (gint64) llround (value));
  else
    json_object_set_double_member (to, name, value);
  return TRUE;
}

static gboolean
check_member_number (JsonObject *to,
                     const char *name,
                     JsonObject *from,
                     const char *member,
                     const char *section,
                     double      min,
                     double      max,
                     gboolean    integral,
                     GError    **error)
{
  JsonNode *node = get_present (from, member);
  g_autofree char *path = NULL;

  if (node == NULL)
    return TRUE;
  path = section != NULL ? g_strconcat (section, ".", member, NULL) : g_strdup (member);
  return check_number (to, name, node, path, min, max, integral, error);
}

#define BYTES(to, from, member, section) \
  check_member_number (to, member, from, member, section, 0, MAX_BYTES, TRUE, error)
#define PERCENT(to, name, from, member, section) \
  check_member_number (to, name, from, member, section, 0, 100, FALSE, error)

/* A string of printable characters, at most @max_length bytes. */
static gboolean
check_string (JsonObject *to,
              const char *name,
              JsonObject *from,
              const char *member,
              const char *section,
              gsize       max_length,
              GError    **error)
{
  JsonNode *node = get_present (from, member);
  g_autofree char *path = NULL;
  const char *text;

  if (node == NULL)
    return TRUE;
  path = section != NULL ? g_strconcat (section, ".", member, NULL) : g_strdup (member);

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return fail (error, path, "must be a string");

  text = json_node_get_string (node);
  if (strlen (text) > max_length)
    {
      g_autofree char *what = g_strdup_printf ("is longer than %" G_GSIZE_FORMAT " bytes", max_length);
      return fail (error, path, what);
    }
  for (const char *p = text; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return fail (error, path, "holds control characters");

  json_object_set_string_member (to, name, text);
  return TRUE;
}

/* The object @member of @from, or NULL when absent; an error if it is
 * present but not an object. */
static gboolean
get_section (JsonObject  *from,
             const char  *member,
             JsonObject **section,
             GError     **error)
{
  JsonNode *node = get_present (from, member);

  *section = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, member, "must be an object");
  *section = json_node_get_object (node);
  return TRUE;
}

static gboolean
get_array (JsonObject  *from,
           const char  *member,
           const char  *path,
           guint        max_length,
           JsonArray  **array,
           GError     **error)
{
  JsonNode *node = get_present (from, member);

  *array = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, path, "must be an array");
  *array = json_node_get_array (node);
  if (json_array_get_length (*array) > max_length)
    {
      g_autofree char *what = g_strdup_printf ("has more than %u entries", max_length);
      return fail (error, path, what);
    }
  return TRUE;
}

static gboolean
check_cpu (JsonObject  *data,
           JsonObject  *metrics,
           GError     **error)
{
  g_autoptr(JsonObject) out = json_object_new ();
  JsonObject *cpu;
  JsonArray *per_core;

  if (!get_section (data, "cpu", &cpu, error))
    return FALSE;
  /* Absent, it is empty: dashboards read metrics.cpu.usage as they are. */
  if (cpu == NULL)
    {
      json_object_set_object_member (metrics, "cpu", g_steal_pointer (&out));
      return TRUE;
    }

  if (!PERCENT (out, "usage", cpu, "usage", "cpu") ||
      !check_member_number (out, "cores", cpu, "cores", "cpu", 0, MAX_CORES, TRUE, error) ||
      !check_string (out, "brand", cpu, "brand", "cpu", MAX_NAME, error) ||
      !check_member_number (out, "frequency", cpu, "frequency", "cpu", 0, MAX_MHZ, FALSE, error) ||
      !get_array (cpu, "per_core", "cpu.per_core", MAX_CPUS, &per_core, error))
    return FALSE;

  if (per_core != NULL)
    {
      JsonArray *values = json_array_sized_new (json_array_get_length (per_core));

      json_object_set_array_member (out, "per_core", values);
      for (guint i = 0; i < json_array_get_length (per_core); i++)
        {
          JsonNode *node = json_array_get_element (per_core, i);
          double value;

          if (!_sonde_vstats_is_number (node) || !isfinite (value = json_node_get_double (node)) ||
              value < 0 || value > 100)
            return fail (error, "cpu.per_core", "must hold numbers from 0 to 100");
          json_array_add_double_element (values, value);
        }
    }

  json_object_set_object_member (metrics, "cpu", g_steal_pointer (&out));
  return TRUE;
}

static gboolean
check_memory (JsonObject  *data,
              JsonObject  *metrics,
              GError     **error)
{
  g_autoptr(JsonObject) out = json_object_new ();
  JsonObject *memory;

  if (!get_section (data, "memory", &memory, error))
    return FALSE;
  if (memory == NULL)
    {
      json_object_set_object_member (metrics, "memory", g_steal_pointer (&out));
      return TRUE;
    }

  if (!BYTES (out, memory, "total", "memory") ||
      !BYTES (out, memory, "used", "memory") ||
      !BYTES (out, memory, "available", "memory") ||
      !BYTES (out, memory, "swap_total", "memory") ||
      !BYTES (out, memory, "swap_used", "memory") ||
      !PERCENT (out, "usage_percent", memory, "usage_percent", "memory"))
    return FALSE;

  json_object_set_object_member (metrics, "memory", g_steal_pointer (&out));
  return TRUE;
}

static gboolean
check_disks (JsonObject  *data,
             JsonObject  *metrics,
             GError     **error)
{
  g_autoptr(JsonArray) out = NULL;
  JsonArray *disks;

  if (!get_array (data, "disks", "disks", MAX_DISKS, &disks, error))
    return FALSE;
  if (disks == NULL)
    {
      json_object_set_array_member (metrics, "disks", json_array_new ());
      return TRUE;
    }

  out = json_array_sized_new (json_array_get_length (disks));
  for (guint i = 0; i < json_array_get_length (disks); i++)
    {
      JsonNode *node = json_array_get_element (disks, i);
      g_autofree char *section = g_strdup_printf ("disks[%u]", i);
      JsonObject *entry;
      JsonObject *disk;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return fail (error, section, "must be an object");
      disk = json_node_get_object (node);
      entry = json_object_new ();
      json_array_add_object_element (out, entry);

      if (!check_string (entry, "name", disk, "name", section, MAX_NAME, error) ||
          !check_string (entry, "mount_point", disk, "mount_point", section, MAX_PATH, error) ||
          !check_string (entry, "fs_type", disk, "fs_type", section, MAX_NAME, error) ||
          !BYTES (entry, disk, "total", section) ||
          !BYTES (entry, disk, "used", section) ||
          !BYTES (entry, disk, "available", section) ||
          !PERCENT (entry, "usage_percent", disk, "usage_percent", section))
        return FALSE;
    }

  json_object_set_array_member (metrics, "disks", g_steal_pointer (&out));
  return TRUE;
}

static gboolean
check_network (JsonObject  *data,
               JsonObject  *metrics,
               gboolean    *has_rates,
               GError     **error)
{
  g_autoptr(JsonObject) out = json_object_new ();
  JsonObject *network;
  JsonArray *interfaces;

  *has_rates = FALSE;
  if (!get_section (data, "network", &network, error))
    return FALSE;
  if (network == NULL)
    {
      json_object_set_object_member (metrics, "network", g_steal_pointer (&out));
      return TRUE;
    }

  /* In a report rx and tx are optional rates (sonded sends them); the
   * hub derives them from the totals otherwise. */
  if (!check_member_number (out, "rx", network, "rx", "network", 0, MAX_BYTES, FALSE, error) ||
      !check_member_number (out, "tx", network, "tx", "network", 0, MAX_BYTES, FALSE, error) ||
      !get_array (network, "interfaces", "network.interfaces", MAX_IFACES, &interfaces, error))
    return FALSE;
  *has_rates = json_object_has_member (out, "rx") && json_object_has_member (out, "tx");

  if (interfaces != NULL)
    {
      JsonArray *array = json_array_sized_new (json_array_get_length (interfaces));

      json_object_set_array_member (out, "interfaces", array);
      for (guint i = 0; i < json_array_get_length (interfaces); i++)
        {
          JsonNode *node = json_array_get_element (interfaces, i);
          g_autofree char *section = g_strdup_printf ("network.interfaces[%u]", i);
          JsonObject *entry;
          JsonObject *interface;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            return fail (error, section, "must be an object");
          interface = json_node_get_object (node);
          entry = json_object_new ();
          json_array_add_object_element (array, entry);

          if (!check_string (entry, "name", interface, "name", section, MAX_NAME, error) ||
              !BYTES (entry, interface, "rx", section) ||
              !BYTES (entry, interface, "tx", section))
            return FALSE;
        }
    }

  if (!BYTES (out, network, "total_rx", "network") ||
      !BYTES (out, network, "total_tx", "network"))
    return FALSE;

  json_object_set_object_member (metrics, "network", g_steal_pointer (&out));
  return TRUE;
}

static gboolean
check_load (JsonObject  *data,
            JsonObject  *metrics,
            GError     **error)
{
  g_autoptr(JsonObject) out = json_object_new ();
  JsonObject *load;

  if (!get_section (data, "load_average", &load, error))
    return FALSE;
  if (load == NULL)
    return TRUE;

  if (!check_member_number (out, "one", load, "one", "load_average", 0, MAX_LOAD, FALSE, error) ||
      !check_member_number (out, "five", load, "five", "load_average", 0, MAX_LOAD, FALSE, error) ||
      !check_member_number (out, "fifteen", load, "fifteen", "load_average", 0, MAX_LOAD, FALSE, error))
    return FALSE;

  json_object_set_object_member (metrics, "load_average", g_steal_pointer (&out));
  return TRUE;
}

static gboolean
check_os (JsonObject  *data,
          JsonObject  *metrics,
          GError     **error)
{
  g_autoptr(JsonObject) out = json_object_new ();
  JsonObject *os;

  if (!get_section (data, "os", &os, error))
    return FALSE;
  if (os == NULL)
    return TRUE;

  if (!check_string (out, "name", os, "name", "os", MAX_NAME, error) ||
      !check_string (out, "version", os, "version", "os", MAX_NAME, error) ||
      !check_string (out, "kernel", os, "kernel", "os", MAX_NAME, error) ||
      !check_string (out, "arch", os, "arch", "os", MAX_NAME, error))
    return FALSE;

  json_object_set_object_member (metrics, "os", g_steal_pointer (&out));
  return TRUE;
}

gboolean
_sonde_vstats_parse_report (JsonObject        *data,
                            SondeVstatsReport *report,
                            GError           **error)
{
  g_autoptr(JsonObject) metrics = json_object_new ();
  g_autoptr(JsonObject) scalars = json_object_new ();
  JsonNode *timestamp = get_present (data, "timestamp");

  memset (report, 0, sizeof *report);

  /* An agent that sends no time is taken as reporting now. */
  report->timestamp_us = g_get_real_time ();
  if (timestamp != NULL &&
      (!JSON_NODE_HOLDS_VALUE (timestamp) || json_node_get_value_type (timestamp) != G_TYPE_STRING ||
       !_sonde_vstats_parse_timestamp (json_node_get_string (timestamp), &report->timestamp_us)))
    return fail (error, "timestamp", "must be an ISO 8601 time, such as 2024-01-01T12:00:00Z");
  /* History slots are whole seconds since the epoch, in 32 bits; a clock
   * far ahead would hold the dashboards on one report. */
  if (report->timestamp_us < MIN_TIMESTAMP_US)
    return fail (error, "timestamp", "is before 2000");
  if (report->timestamp_us > g_get_real_time () + MAX_CLOCK_AHEAD_US)
    return fail (error, "timestamp", "is more than 5 minutes ahead of the hub's clock");

  /* The dashboards' order: cpu, memory, disks, network, uptime,
   * load_average, os, hostname. */
  if (!check_cpu (data, metrics, error) ||
      !check_memory (data, metrics, error) ||
      !check_disks (data, metrics, error) ||
      !check_network (data, metrics, &report->has_rates, error) ||
      !check_member_number (metrics, "uptime", data, "uptime", NULL, 0, MAX_UPTIME, TRUE, error) ||
      !check_load (data, metrics, error) ||
      !check_os (data, metrics, error) ||
      !check_string (scalars, "hostname", data, "hostname", NULL, MAX_HOSTNAME, error))
    return FALSE;

  if (json_object_has_member (scalars, "hostname"))
    {
      const char *hostname = json_object_get_string_member (scalars, "hostname");

      if (*hostname == '\0')
        return fail (error, "hostname", "must not be empty");
      report->hostname = g_strdup (hostname);
      json_object_set_string_member (metrics, "hostname", hostname);
    }

  report->metrics = g_steal_pointer (&metrics);
  return TRUE;
}

static gboolean
refuse (GError    **error,
        const char *message)
{
  g_set_error_literal (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

gboolean
_sonde_vstats_read_agent_message (SoupWebsocketDataType   type,
                                  const char             *text,
                                  gsize                   length,
                                  SondeVstatsAgentMessage *message,
                                  GError                **error)
{
  g_autoptr(GError) json_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  const char *message_type;
  JsonNode *data;

  memset (message, 0, sizeof *message);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return refuse (error, "Binary frames are not accepted; send JSON in text frames");

  if (length > SONDE_MAX_CLIENT_MESSAGE)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "Message of %" G_GSIZE_FORMAT " bytes exceeds the limit of %d bytes",
                   length, SONDE_MAX_CLIENT_MESSAGE);
      return FALSE;
    }

  root = _sonde_json_parse_bounded (text != NULL ? text : "", length, &json_error);
  if (root == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "Invalid JSON: %s", json_error->message);
      return FALSE;
    }

  object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  message_type = object != NULL ? _sonde_json_get_string_member (object, "type") : NULL;
  if (message_type == NULL)
    return refuse (error, "Expected a JSON object with a string member \"type\"");

  if (g_str_equal (message_type, "heartbeat"))
    {
      message->heartbeat = TRUE;
      return TRUE;
    }

  if (!g_str_equal (message_type, "metrics"))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT, "Unknown message type '%s'", message_type);
      return FALSE;
    }

  data = json_object_get_member (object, "data");
  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    return refuse (error, "Invalid report: \"data\" must be an object");

  message->data = json_object_ref (json_node_get_object (data));
  return TRUE;
}

void
_sonde_vstats_agent_message_clear (SondeVstatsAgentMessage *message)
{
  g_clear_pointer (&message->data, json_object_unref);
}
