/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <math.h>
#include <string.h>

#include "prometheus-test-util.h"

static gboolean
is_metric_name (const char *name,
                gsize       length)
{
  if (length == 0 || !(g_ascii_isalpha (name[0]) || name[0] == '_' || name[0] == ':'))
    return FALSE;
  for (gsize i = 1; i < length; i++)
    if (!(g_ascii_isalnum (name[i]) || name[i] == '_' || name[i] == ':'))
      return FALSE;
  return TRUE;
}

static gboolean
is_label_name (const char *name,
               gsize       length)
{
  if (length == 0 || !(g_ascii_isalpha (name[0]) || name[0] == '_'))
    return FALSE;
  if (length >= 2 && name[0] == '_' && name[1] == '_')
    return FALSE;
  for (gsize i = 1; i < length; i++)
    if (!(g_ascii_isalnum (name[i]) || name[i] == '_'))
      return FALSE;
  return TRUE;
}

/* The length of the metric name at @p. */
static gsize
name_length (const char *p)
{
  gsize n = 0;

  while (g_ascii_isalnum (p[n]) || p[n] == '_' || p[n] == ':')
    n++;
  return n;
}

/* Unescapes HELP text: \\ and \n, and \" in OpenMetrics; any other
 * escape fails. */
static char *
unescape_help (const char           *text,
               SondePrometheusFormat format)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p != '\\')
        {
          /* OpenMetrics escapes quotes in HELP. */
          if (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS)
            g_assert_cmpint (*p, !=, '"');
          g_string_append_c (out, *p);
          continue;
        }
      p++;
      if (*p == '\\')
        g_string_append_c (out, '\\');
      else if (*p == 'n')
        g_string_append_c (out, '\n');
      else if (*p == '"' && format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS)
        g_string_append_c (out, '"');
      else
        g_assert_not_reached ();
    }
  return g_string_free (out, FALSE);
}

/* Reads `{a="x",b="y"}` at *@p; returns it as written and advances. */
static char *
parse_labels (const char **p)
{
  const char *start = *p;
  const char *q = *p;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (*q != '{')
    return g_strdup ("");
  q++;
  while (*q != '}')
    {
      gsize n = 0;

      while (g_ascii_isalnum (q[n]) || q[n] == '_')
        n++;
      if (!is_label_name (q, n))
        g_error ("bad label name at: %s", q);
      for (guint i = 0; i < names->len; i++)
        g_assert_false (strncmp (g_ptr_array_index (names, i), q, n) == 0 &&
                        strlen (g_ptr_array_index (names, i)) == n);
      g_ptr_array_add (names, g_strndup (q, n));
      q += n;
      g_assert_cmpint (*q, ==, '=');
      q++;
      g_assert_cmpint (*q, ==, '"');
      q++;
      while (*q != '"')
        {
          g_assert_cmpint (*q, !=, '\0');
          g_assert_cmpint (*q, !=, '\n');
          if (*q == '\\')
            {
              q++;
              g_assert_true (*q == '\\' || *q == '"' || *q == 'n');
            }
          q++;
        }
      q++;
      if (*q == ',')
        {
          q++;
          /* A trailing comma is allowed by 0.0.4, not written by Sonde. */
          g_assert_cmpint (*q, !=, '}');
        }
      else
        g_assert_cmpint (*q, ==, '}');
    }
  q++;
  *p = q;
  return g_strndup (start, q - start);
}

SondeTestExposition *
sonde_test_exposition_parse (const char           *text,
                             gsize                 length,
                             SondePrometheusFormat format)
{
  SondeTestExposition *self = g_new0 (SondeTestExposition, 1);
  g_autofree char *copy = g_strndup (text, length);
  g_auto(GStrv) lines = NULL;
  g_autofree char *family = NULL;       /* as written in HELP/TYPE */
  const char *family_type = NULL;
  guint family_samples = 0;
  gboolean eof = FALSE;
  guint n_lines;

  self->samples = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->helps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->families = g_ptr_array_new_with_free_func (g_free);
  self->order = g_ptr_array_new_with_free_func (g_free);

  g_assert_cmpuint (strlen (copy), ==, length);
  g_assert_true (g_utf8_validate (text, length, NULL));
  g_assert_true (length == 0 || text[length - 1] == '\n');

  /* An empty exposition (no collector at all) has no line. */
  lines = g_strsplit (copy, "\n", -1);
  n_lines = g_strv_length (lines);
  g_assert_true (n_lines == 0 || g_str_equal (lines[n_lines - 1], ""));

  for (guint i = 0; i + 1 < n_lines; i++)
    {
      const char *line = lines[i];

      g_assert_false (eof);

      if (g_str_has_prefix (line, "# HELP "))
        {
          const char *name = line + strlen ("# HELP ");
          gsize n = name_length (name);

          /* A family is done before the next one starts, and has samples. */
          if (family != NULL)
            g_assert_cmpuint (family_samples, >, 0);
          g_assert_true (is_metric_name (name, n));
          g_assert_cmpint (name[n], ==, ' ');
          g_free (family);
          family = g_strndup (name, n);
          family_type = NULL;
          family_samples = 0;
          for (guint f = 0; f < self->families->len; f++)
            if (g_str_equal (g_ptr_array_index (self->families, f), family))
              g_error ("family %s written twice", family);
          g_ptr_array_add (self->families, g_strdup (family));
          g_hash_table_insert (self->helps, g_strdup (family), unescape_help (name + n + 1, format));
        }
      else if (g_str_has_prefix (line, "# TYPE "))
        {
          const char *name = line + strlen ("# TYPE ");
          gsize n = name_length (name);
          const char *type = name + n + 1;

          g_assert_nonnull (family);
          g_assert_null (family_type);
          g_assert_cmpuint (strlen (family), ==, n);
          g_assert_true (strncmp (name, family, n) == 0);
          if (g_str_equal (type, "gauge"))
            family_type = "gauge";
          else if (g_str_equal (type, "counter"))
            family_type = "counter";
          else if (g_str_equal (type, "info") && format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS)
            family_type = "info";
          else
            g_error ("unexpected type line: %s", line);

          /* A suffix that means another type, as promtool's lint says. */
          if (!g_str_equal (family_type, "counter") || format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS)
            {
              static const char * const reserved[] = { "_total", "_count", "_sum", "_bucket", "_created" };

              for (guint r = 0; r < G_N_ELEMENTS (reserved); r++)
                if (g_str_has_suffix (family, reserved[r]))
                  g_error ("%s family %s ends in %s", family_type, family, reserved[r]);
              if (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS && g_str_has_suffix (family, "_info"))
                g_error ("%s family %s ends in _info", family_type, family);
            }
        }
      else if (g_str_has_prefix (line, "# UNIT "))
        {
          const char *name = line + strlen ("# UNIT ");
          gsize n = name_length (name);
          g_autofree char *suffix = g_strconcat ("_", name + n + 1, NULL);

          g_assert_true (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS);
          g_assert_nonnull (family_type);
          g_assert_cmpuint (family_samples, ==, 0);
          g_assert_true (strncmp (name, family, n) == 0 && strlen (family) == n);
          g_assert_true (g_str_has_suffix (family, suffix));
        }
      else if (g_str_equal (line, "# EOF"))
        {
          g_assert_true (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS);
          eof = TRUE;
        }
      else
        {
          const char *p = line;
          gsize n = name_length (p);
          g_autofree char *name = g_strndup (p, n);
          g_autofree char *labels = NULL;
          g_autofree char *series = NULL;
          g_autofree char *expected = NULL;
          char *end = NULL;
          double value;

          g_assert_cmpint (line[0], !=, '#');
          g_assert_true (is_metric_name (p, n));
          g_assert_nonnull (family_type);
          p += n;
          labels = parse_labels (&p);
          g_assert_cmpint (*p, ==, ' ');
          p++;

          /* The sample belongs to the family just declared. */
          if (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS && g_str_equal (family_type, "counter"))
            expected = g_strconcat (family, "_total", NULL);
          else if (g_str_equal (family_type, "info"))
            expected = g_strconcat (family, "_info", NULL);
          else
            expected = g_strdup (family);
          g_assert_cmpstr (name, ==, expected);
          if (format == SONDE_PROMETHEUS_FORMAT_TEXT && g_str_equal (family_type, "counter"))
            g_assert_true (g_str_has_suffix (name, "_total"));

          /* A value, and no timestamp. */
          g_assert_cmpstr (p, !=, "NaN");
          if (g_str_equal (p, "+Inf") || g_str_equal (p, "-Inf"))
            value = g_str_equal (p, "+Inf") ? INFINITY : -INFINITY;
          else
            {
              value = g_ascii_strtod (p, &end);
              g_assert_true (end != p && *end == '\0');
              g_assert_false (isnan (value));
            }
          if (g_str_equal (family_type, "counter"))
            g_assert_true (value >= 0 && isfinite (value));
          if (g_str_equal (family_type, "info"))
            g_assert_cmpstr (p, ==, "1");

          series = g_strconcat (name, labels, NULL);
          if (g_hash_table_contains (self->samples, series))
            g_error ("series %s written twice", series);
          g_hash_table_insert (self->samples, g_strdup (series), g_strdup (p));
          g_ptr_array_add (self->order, g_strdup (series));
          if (!g_hash_table_contains (self->types, name))
            g_hash_table_insert (self->types, g_strdup (name), (gpointer) family_type);
          family_samples++;
        }
    }

  if (family != NULL)
    g_assert_cmpuint (family_samples, >, 0);
  g_assert_true (eof == (format == SONDE_PROMETHEUS_FORMAT_OPENMETRICS));
  return self;
}

SondeTestExposition *
sonde_test_exposition_parse_bytes (GBytes               *bytes,
                                   SondePrometheusFormat format)
{
  gsize length;
  const char *text = g_bytes_get_data (bytes, &length);

  return sonde_test_exposition_parse (text ? text : "", length, format);
}

void
sonde_test_exposition_free (SondeTestExposition *self)
{
  g_hash_table_unref (self->samples);
  g_hash_table_unref (self->types);
  g_hash_table_unref (self->helps);
  g_ptr_array_unref (self->families);
  g_ptr_array_unref (self->order);
  g_free (self);
}

const char *
sonde_test_exposition_get (SondeTestExposition *self,
                           const char          *series)
{
  return g_hash_table_lookup (self->samples, series);
}

guint
sonde_test_exposition_count (SondeTestExposition *self,
                             const char          *name)
{
  guint n = 0;

  for (guint i = 0; i < self->order->len; i++)
    {
      const char *series = g_ptr_array_index (self->order, i);
      gsize length = strlen (name);

      if (strncmp (series, name, length) == 0 && (series[length] == '\0' || series[length] == '{'))
        n++;
    }
  return n;
}
