/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "sonde-error.h"
#include "sonde-filter-private.h"

typedef struct
{
  GPatternSpec *collector;  /* NULL: any collector */
  GPatternSpec *field;      /* NULL: any field */
} Pattern;

struct _SondeFilter
{
  GArray *patterns;  /* Pattern */
  char   *key;       /* sorted, deduplicated patterns joined by ',' */
};

static gboolean
has_glob (const char *text)
{
  return strpbrk (text, "*?") != NULL;
}

static gboolean
is_valid_part (const char *text)
{
  if (*text == '\0')
    return FALSE;

  for (const char *p = text; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("_-*?", *p))
      return FALSE;

  return TRUE;
}

static void
pattern_clear (Pattern *pattern)
{
  g_clear_pointer (&pattern->collector, g_pattern_spec_free);
  g_clear_pointer (&pattern->field, g_pattern_spec_free);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static GPatternSpec *
part_spec (const char *part)
{
  return g_str_equal (part, "*") ? NULL : g_pattern_spec_new (part);
}

/* Exact names are checked against the catalog: an unknown exact name is an
 * error, not a silent empty stream. Globs may match nothing yet. */
static gboolean
check_exact (SondeCatalog *catalog,
             const char   *pattern,
             const char   *collector,
             const char   *field,
             GError      **error)
{
  if (has_glob (collector))
    return TRUE;

  if (!_sonde_catalog_has_collector (catalog, collector))
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC,
                   "Unknown metric '%s': no collector named '%s'", pattern, collector);
      return FALSE;
    }

  if (field != NULL && !has_glob (field) && _sonde_catalog_lookup (catalog, pattern) == NULL)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_UNKNOWN_METRIC,
                   "Unknown metric '%s'", pattern);
      return FALSE;
    }

  return TRUE;
}

SondeFilter *
_sonde_filter_new (SondeCatalog       *catalog,
                   const char * const *patterns,
                   GError            **error)
{
  g_autoptr(SondeFilter) self = g_new0 (SondeFilter, 1);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(GString) key = g_string_new (NULL);
  guint n_patterns = patterns ? g_strv_length ((char **) patterns) : 0;

  self->patterns = g_array_new (FALSE, TRUE, sizeof (Pattern));
  g_array_set_clear_func (self->patterns, (GDestroyNotify) pattern_clear);

  if (n_patterns == 0)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER,
                   "At least one metric pattern is required");
      return NULL;
    }

  if (n_patterns > SONDE_FILTER_MAX_PATTERNS)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER,
                   "Too many metric patterns (%u, at most %u)",
                   n_patterns, SONDE_FILTER_MAX_PATTERNS);
      return NULL;
    }

  for (guint i = 0; i < n_patterns; i++)
    {
      const char *text = patterns[i];
      const char *dot = strchr (text, '.');
      g_autofree char *collector = NULL;
      const char *field = NULL;
      Pattern pattern = { NULL, NULL };

      if (strlen (text) > SONDE_FILTER_MAX_PATTERN_LENGTH)
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER,
                       "Metric pattern longer than %d characters",
                       SONDE_FILTER_MAX_PATTERN_LENGTH);
          return NULL;
        }

      collector = dot ? g_strndup (text, dot - text) : g_strdup (text);
      field = dot ? dot + 1 : NULL;

      if (!is_valid_part (collector) || (field != NULL && !is_valid_part (field)))
        {
          g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_FILTER,
                       "Invalid metric pattern '%s': use collector, collector.field, "
                       "or globs with * and ?", text);
          return NULL;
        }

      if (!check_exact (catalog, text, collector, field, error))
        return NULL;

      pattern.collector = part_spec (collector);
      pattern.field = field ? part_spec (field) : NULL;
      g_array_append_val (self->patterns, pattern);
      g_ptr_array_add (sorted, (gpointer) text);
    }

  /* Equal filters written in another order must share a group. */
  g_ptr_array_sort (sorted, compare_strings);
  for (guint i = 0; i < sorted->len; i++)
    {
      const char *text = g_ptr_array_index (sorted, i);

      if (i > 0 && g_str_equal (text, g_ptr_array_index (sorted, i - 1)))
        continue;
      if (key->len > 0)
        g_string_append_c (key, ',');
      g_string_append (key, text);
    }
  self->key = g_string_free (g_steal_pointer (&key), FALSE);

  return g_steal_pointer (&self);
}

/* "collector.field" with no glob: one metric, named exactly. */
gboolean
_sonde_filter_is_exact_name (const char *pattern)
{
  return strchr (pattern, '.') != NULL && !has_glob (pattern);
}

void
_sonde_filter_free (SondeFilter *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->patterns, g_array_unref);
  g_free (self->key);
  g_free (self);
}

const char *
_sonde_filter_get_key (SondeFilter *self)
{
  return self->key;
}

gboolean
_sonde_filter_wants_collector (SondeFilter *self,
                               const char  *collector)
{
  for (guint i = 0; i < self->patterns->len; i++)
    {
      Pattern *pattern = &g_array_index (self->patterns, Pattern, i);

      if (pattern->collector == NULL ||
          g_pattern_spec_match_string (pattern->collector, collector))
        return TRUE;
    }

  return FALSE;
}

gboolean
_sonde_filter_matches (SondeFilter *self,
                       const char  *collector,
                       const char  *field)
{
  for (guint i = 0; i < self->patterns->len; i++)
    {
      Pattern *pattern = &g_array_index (self->patterns, Pattern, i);

      if (pattern->collector != NULL &&
          !g_pattern_spec_match_string (pattern->collector, collector))
        continue;

      if (pattern->field == NULL || g_pattern_spec_match_string (pattern->field, field))
        return TRUE;
    }

  return FALSE;
}
