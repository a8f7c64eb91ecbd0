/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-engine-private.h"
#include "sonde-hub-private.h"

typedef struct
{
  SondeHubSendFunc send;   /* NULL once the member left during a dispatch */
  gpointer         member;
  char            *label;
} Member;

struct _SondeHubGroup
{
  SondeHub           *hub;
  char               *key;
  char               *params;
  SondeFilter        *filter;
  guint               interval_ms;
  const SondeHubEncoding *encoding;
  GArray             *members;   /* Member, those of one label side by side */
  GArray             *hold_ids;  /* guint */
  guint64             seq;
  gpointer            encoder_data;
  GDestroyNotify      encoder_data_destroy;
  guint               n_active;  /* members that have not left */
  guint               dispatching : 1;
  guint               has_departed : 1;
};

struct _SondeHub
{
  SondeEngine *engine;   /* borrowed: the engine owns its hub */
  GHashTable  *groups;   /* key -> SondeHubGroup */
  gulong       added_handler;
  guint64      n_encoded;
  gboolean     in_tick;   /* groups are not freed while a tick runs */
};

static void
group_hold (SondeHubGroup  *group,
            SondeCollector *collector)
{
  const char *name = sonde_collector_get_name (collector);
  g_autoptr(GError) error = NULL;
  guint id;

  if (!_sonde_filter_wants_collector (group->filter, name))
    return;

  id = sonde_engine_hold (group->hub->engine, name, group->interval_ms, &error);
  if (id == 0)
    g_warning ("Cannot sample %s: %s", name, error->message);
  else
    g_array_append_val (group->hold_ids, id);
}

static void
member_clear (Member *member)
{
  g_clear_pointer (&member->label, g_free);
}

static void
group_free (SondeHubGroup *group)
{
  if (group->hub->engine != NULL)
    for (guint i = 0; i < group->hold_ids->len; i++)
      sonde_engine_release (group->hub->engine, g_array_index (group->hold_ids, guint, i));

  if (group->encoder_data_destroy != NULL)
    group->encoder_data_destroy (group->encoder_data);
  g_array_unref (group->hold_ids);
  g_array_unref (group->members);
  _sonde_filter_free (group->filter);
  g_free (group->params);
  g_free (group->key);
  g_free (group);
}

typedef struct
{
  const char *label;
  GBytes     *frame;
} Labelled;

/* Members of one label sit side by side, so each distinct label costs
 * one labelling per tick, and nothing is kept past the tick. */
static GBytes *
member_frame (SondeHubGroup *group,
              Member        *member,
              GBytes        *frame,
              Labelled      *labelled)
{
  if (frame == NULL || member->label == NULL || group->encoding->label == NULL)
    return frame;

  if (labelled->frame == NULL || !g_str_equal (labelled->label, member->label))
    {
      g_clear_pointer (&labelled->frame, g_bytes_unref);
      labelled->frame = group->encoding->label (frame, member->label);
      labelled->label = member->label;
    }
  return labelled->frame;
}

static void
group_dispatch (SondeHubGroup *group,
                SondeTickView *view)
{
  g_autoptr(GBytes) frame = NULL;
  Labelled labelled = { NULL, NULL };

  group->seq++;
  frame = group->encoding->encode (group, view);
  group->hub->n_encoded++;

  /* Members may leave from their send function (a closed connection):
   * they are only marked here and swept afterwards. */
  group->dispatching = TRUE;
  for (guint i = 0; i < group->members->len; i++)
    {
      Member *member = &g_array_index (group->members, Member, i);

      if (member->send != NULL)
        member->send (member->member, group, member_frame (group, member, frame, &labelled));
    }
  group->dispatching = FALSE;
  g_clear_pointer (&labelled.frame, g_bytes_unref);

  if (group->has_departed)
    {
      for (guint i = group->members->len; i > 0; i--)
        if (g_array_index (group->members, Member, i - 1).send == NULL)
          g_array_remove_index (group->members, i - 1);
      group->has_departed = FALSE;
    }
}

void
_sonde_hub_dispatch (SondeHub      *self,
                     SondeTickView *view)
{
  gint64 tick_us = _sonde_tick_view_get_timestamp (view);
  g_autoptr(GPtrArray) due = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      SondeHubGroup *group = value;

      if (_sonde_tick_is_due (tick_us / 1000, group->interval_ms))
        g_ptr_array_add (due, group);
    }

  self->in_tick = TRUE;
  for (guint i = 0; i < due->len; i++)
    {
      SondeHubGroup *group = g_ptr_array_index (due, i);

      if (group->n_active > 0)
        group_dispatch (group, view);
    }
  self->in_tick = FALSE;

  /* Groups whose last member left during the tick. */
  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((SondeHubGroup *) value)->n_active == 0)
      g_hash_table_iter_remove (&iter);
}

static void
collector_added_cb (SondeEngine    *engine,
                    SondeCollector *collector,
                    SondeHub       *self)
{
  GHashTableIter iter;
  gpointer value;

  /* A collector added later (a Python collector) joins the groups whose
   * patterns it matches, such as the default "*". */
  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    group_hold (value, collector);
}

SondeHub *
_sonde_hub_new (SondeEngine *engine)
{
  SondeHub *self = g_new0 (SondeHub, 1);

  self->engine = engine;
  self->groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) group_free);
  self->added_handler = g_signal_connect (engine, "collector-added", G_CALLBACK (collector_added_cb), self);
  return self;
}

void
_sonde_hub_free (SondeHub *self)
{
  if (self == NULL)
    return;

  g_clear_signal_handler (&self->added_handler, self->engine);
  g_hash_table_unref (self->groups);
  g_free (self);
}

/* Where a member with @label goes: after the last one with the same
 * label. During a dispatch, at the end, so no member is skipped or
 * served twice. */
static guint
member_position (SondeHubGroup *group,
                 const char    *label)
{
  if (label == NULL || group->dispatching)
    return group->members->len;

  for (guint i = group->members->len; i > 0; i--)
    if (g_strcmp0 (g_array_index (group->members, Member, i - 1).label, label) == 0)
      return i;

  return group->members->len;
}

/* Takes ownership of @filter. */
SondeHubGroup *
_sonde_hub_join (SondeHub               *self,
                 const SondeHubEncoding *encoding,
                 const char             *params,
                 SondeFilter            *filter,
                 guint                   interval_ms,
                 const char             *label,
                 SondeHubSendFunc        send,
                 gpointer                member)
{
  g_autofree char *key = NULL;
  SondeHubGroup *group;
  Member entry = { send, member, g_strdup (label) };

  key = g_strdup_printf ("%s\n%s\n%u\n%s", encoding->dialect, params ? params : "", interval_ms,
                         _sonde_filter_get_key (filter));
  group = g_hash_table_lookup (self->groups, key);

  if (group == NULL)
    {
      g_autoptr(GPtrArray) collectors = sonde_engine_list_collectors (self->engine);

      group = g_new0 (SondeHubGroup, 1);
      group->hub = self;
      group->key = g_steal_pointer (&key);
      group->params = g_strdup (params);
      group->filter = g_steal_pointer (&filter);
      group->interval_ms = interval_ms;
      group->encoding = encoding;
      group->members = g_array_new (FALSE, FALSE, sizeof (Member));
      g_array_set_clear_func (group->members, (GDestroyNotify) member_clear);
      group->hold_ids = g_array_new (FALSE, FALSE, sizeof (guint));
      g_hash_table_insert (self->groups, group->key, group);

      for (guint i = 0; i < collectors->len; i++)
        group_hold (group, g_ptr_array_index (collectors, i));
    }
  else
    _sonde_filter_free (filter);

  g_array_insert_val (group->members, member_position (group, label), entry);
  group->n_active++;
  return group;
}

void
_sonde_hub_leave (SondeHub      *self,
                  SondeHubGroup *group,
                  gpointer       member)
{
  for (guint i = 0; i < group->members->len; i++)
    {
      Member *entry = &g_array_index (group->members, Member, i);

      if (entry->member != member || entry->send == NULL)
        continue;

      if (group->dispatching)
        {
          entry->send = NULL;
          group->has_departed = TRUE;
        }
      else
        g_array_remove_index (group->members, i);
      group->n_active--;
      break;
    }

  /* During a dispatch, _sonde_hub_dispatch() removes the empty group afterwards. */
  if (group->n_active == 0 && !self->in_tick)
    g_hash_table_remove (self->groups, group->key);
}

guint
_sonde_hub_get_n_groups (SondeHub *self)
{
  return g_hash_table_size (self->groups);
}

guint64
_sonde_hub_get_n_encoded (SondeHub *self)
{
  return self->n_encoded;
}

const char *
_sonde_hub_group_get_params (SondeHubGroup *group)
{
  return group->params;
}

SondeFilter *
_sonde_hub_group_get_filter (SondeHubGroup *group)
{
  return group->filter;
}

guint
_sonde_hub_group_get_interval (SondeHubGroup *group)
{
  return group->interval_ms;
}

guint64
_sonde_hub_group_get_seq (SondeHubGroup *group)
{
  return group->seq;
}

guint
_sonde_hub_group_get_n_members (SondeHubGroup *group)
{
  return group->n_active;
}

gpointer
_sonde_hub_group_get_encoder_data (SondeHubGroup *group)
{
  return group->encoder_data;
}

void
_sonde_hub_group_set_encoder_data (SondeHubGroup  *group,
                                   gpointer        data,
                                   GDestroyNotify  destroy)
{
  if (group->encoder_data_destroy != NULL)
    group->encoder_data_destroy (group->encoder_data);
  group->encoder_data = data;
  group->encoder_data_destroy = destroy;
}
