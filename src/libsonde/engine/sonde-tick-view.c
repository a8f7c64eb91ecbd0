/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-json-private.h"
#include "sonde-tick-view-private.h"

/* One collector's data as JSON text, written the first time a frame of the
 * tick asks for it and then copied into every group's frame: a tick costs
 * one serialisation per collector, however many groups it has. Each
 * member is `"name":value`, in the sample's order. */
typedef struct
{
  const char *name;       /* the sample's */
  gsize       start;
  gsize       length;
} MemberText;

typedef struct
{
  GString *text;
  GArray  *members;       /* MemberText */
} EntryText;

struct _SondeTickView
{
  gint64      timestamp_us;
  GArray     *entries;   /* SondeTickEntry; names and failures owned */
  GHashTable *by_name;   /* name -> index + 1 */
  GPtrArray  *texts;     /* EntryText, or NULL until asked; one per entry */
  char       *timestamp_text;  /* NULL until asked */
};

static void
entry_text_free (EntryText *text)
{
  if (text == NULL)
    return;
  g_string_free (text->text, TRUE);
  g_array_unref (text->members);
  g_free (text);
}

static void
entry_clear (SondeTickEntry *entry)
{
  g_free ((char *) entry->name);
  g_free ((char *) entry->failure);
  g_clear_pointer (&entry->sample, sonde_sample_unref);
}

static void
tick_view_release (SondeTickView *self)
{
  g_ptr_array_unref (self->texts);
  g_free (self->timestamp_text);
  g_hash_table_unref (self->by_name);
  g_array_unref (self->entries);
}

SondeTickView *
_sonde_tick_view_new (gint64 timestamp_us,
                      guint  n_collectors)
{
  SondeTickView *self = g_rc_box_new0 (SondeTickView);

  self->timestamp_us = timestamp_us;
  self->entries = g_array_sized_new (FALSE, TRUE, sizeof (SondeTickEntry), n_collectors);
  g_array_set_clear_func (self->entries, (GDestroyNotify) entry_clear);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->texts = g_ptr_array_new_full (n_collectors, (GDestroyNotify) entry_text_free);
  return self;
}

void
_sonde_tick_view_add (SondeTickView *self,
                      const char    *name,
                      SondeSample   *sample,
                      const char    *failure,
                      gboolean       stale)
{
  SondeTickEntry entry = {
    g_strdup (name),
    sample ? sonde_sample_ref (sample) : NULL,
    g_strdup (failure),
    stale,
  };

  g_array_append_val (self->entries, entry);
  g_ptr_array_add (self->texts, NULL);
  g_hash_table_insert (self->by_name,
                       (gpointer) g_array_index (self->entries, SondeTickEntry, self->entries->len - 1).name,
                       GUINT_TO_POINTER (self->entries->len));
}

SondeTickView *
_sonde_tick_view_ref (SondeTickView *self)
{
  return g_rc_box_acquire (self);
}

void
_sonde_tick_view_unref (SondeTickView *self)
{
  g_rc_box_release_full (self, (GDestroyNotify) tick_view_release);
}

gint64
_sonde_tick_view_get_timestamp (SondeTickView *self)
{
  return self->timestamp_us;
}

guint
_sonde_tick_view_get_n_entries (SondeTickView *self)
{
  return self->entries->len;
}

const SondeTickEntry *
_sonde_tick_view_get_entry (SondeTickView *self,
                            guint          index)
{
  g_assert (index < self->entries->len);
  return &g_array_index (self->entries, SondeTickEntry, index);
}

const SondeTickEntry *
_sonde_tick_view_lookup (SondeTickView *self,
                         const char    *collector)
{
  guint position = GPOINTER_TO_UINT (g_hash_table_lookup (self->by_name, collector));

  return position > 0 ? &g_array_index (self->entries, SondeTickEntry, position - 1) : NULL;
}

JsonObject *
_sonde_tick_view_get_data (SondeTickView *self,
                           const char    *collector)
{
  const SondeTickEntry *entry = _sonde_tick_view_lookup (self, collector);

  return entry != NULL && entry->sample != NULL ? sonde_sample_get_data (entry->sample) : NULL;
}

const char *
_sonde_tick_view_get_failure (SondeTickView *self,
                              const char    *collector)
{
  const SondeTickEntry *entry = _sonde_tick_view_lookup (self, collector);

  if (entry == NULL)
    return "no such collector";
  if (entry->sample != NULL && !entry->stale)
    return NULL;
  return entry->failure;
}

JsonObject *
_sonde_tick_view_to_json (SondeTickView  *self,
                          SondeFilter    *filter,
                          JsonArray     **stale)
{
  JsonObject *data = json_object_new ();

  *stale = NULL;

  for (guint i = 0; i < self->entries->len; i++)
    {
      const SondeTickEntry *entry = &g_array_index (self->entries, SondeTickEntry, i);
      JsonObject *fields;
      JsonObjectIter iter;
      const char *member;
      JsonNode *node;

      if (entry->sample == NULL || !_sonde_filter_wants_collector (filter, entry->name))
        continue;

      fields = json_object_new ();
      json_object_iter_init_ordered (&iter, sonde_sample_get_data (entry->sample));
      while (json_object_iter_next_ordered (&iter, &member, &node))
        if (_sonde_filter_matches (filter, entry->name, member))
          json_object_set_member (fields, member, json_node_copy (node));

      if (json_object_get_size (fields) > 0)
        json_object_set_object_member (data, entry->name, fields);
      else
        json_object_unref (fields);

      if (entry->stale)
        {
          if (*stale == NULL)
            *stale = json_array_new ();
          json_array_add_string_element (*stale, entry->name);
        }
    }

  return data;
}

const char *
_sonde_tick_view_get_timestamp_text (SondeTickView *self)
{
  if (g_once_init_enter (&self->timestamp_text))
    g_once_init_leave (&self->timestamp_text, _sonde_format_timestamp (self->timestamp_us));
  return self->timestamp_text;
}

static EntryText *
entry_text_new (JsonObject *data)
{
  EntryText *text = g_new0 (EntryText, 1);
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  text->text = g_string_sized_new (256);
  text->members = g_array_new (FALSE, FALSE, sizeof (MemberText));
  json_object_iter_init_ordered (&iter, data);
  while (json_object_iter_next_ordered (&iter, &member, &node))
    {
      MemberText entry = { member, text->text->len, 0 };

      _sonde_append_json_string (text->text, member);
      g_string_append_c (text->text, ':');
      _sonde_json_append_node (text->text, node);
      entry.length = text->text->len - entry.start;
      g_array_append_val (text->members, entry);
    }
  return text;
}

/* Written once, by whichever thread asks first. */
static const EntryText *
get_entry_text (SondeTickView *self,
                guint          index)
{
  gpointer *slot = &g_ptr_array_index (self->texts, index);

  if (g_once_init_enter (slot))
    {
      const SondeTickEntry *entry = &g_array_index (self->entries, SondeTickEntry, index);

      g_once_init_leave (slot, entry_text_new (sonde_sample_get_data (entry->sample)));
    }
  return *slot;
}

void
_sonde_tick_view_write_data (SondeTickView *self,
                             SondeFilter   *filter,
                             GString       *data,
                             GString       *stale)
{
  gboolean first = TRUE;

  g_string_append_c (data, '{');
  for (guint i = 0; i < self->entries->len; i++)
    {
      const SondeTickEntry *entry = &g_array_index (self->entries, SondeTickEntry, i);
      const EntryText *text;
      gsize mark = data->len;
      guint kept = 0;

      if (entry->sample == NULL || !_sonde_filter_wants_collector (filter, entry->name))
        continue;

      text = get_entry_text (self, i);
      if (!first)
        g_string_append_c (data, ',');
      _sonde_append_json_string (data, entry->name);
      g_string_append (data, ":{");
      for (guint m = 0; m < text->members->len; m++)
        {
          const MemberText *member = &g_array_index (text->members, MemberText, m);

          if (!_sonde_filter_matches (filter, entry->name, member->name))
            continue;
          if (kept++ > 0)
            g_string_append_c (data, ',');
          g_string_append_len (data, text->text->str + member->start, member->length);
        }

      if (kept > 0)
        {
          g_string_append_c (data, '}');
          first = FALSE;
        }
      else
        g_string_truncate (data, mark);

      if (entry->stale)
        {
          g_string_append_c (stale, stale->len == 0 ? '[' : ',');
          _sonde_append_json_string (stale, entry->name);
        }
    }
  g_string_append_c (data, '}');
  if (stale->len > 0)
    g_string_append_c (stale, ']');
}
