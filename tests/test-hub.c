/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sonde-engine-private.h"
#include "sonde-hub-private.h"
#include "sonde-test-util.h"

/* The subscription manager: identical subscriptions share a group, the
 * group's frame is encoded once per due tick, and every member gets the
 * very same bytes. */

typedef struct
{
  SondeEngine        *engine;
  SondeFakeCollector *fake;
  SondeHub           *hub;
  guint               n_encoded;
  guint               n_labelled;
} Fixture;

typedef struct
{
  Fixture   *fixture;
  GPtrArray *frames;   /* GBytes, as received */
  gboolean   leave_on_receive;
  SondeHubGroup *group;
} Member;

static Fixture *current;

static GBytes *
count_encode (SondeHubGroup *group,
              SondeTickView *view)
{
  gint64 tick_us = _sonde_tick_view_get_timestamp (view);
  char *text = g_strdup_printf ("{\"seq\":%" G_GUINT64_FORMAT ",\"tick\":%" G_GINT64_FORMAT "}",
                                _sonde_hub_group_get_seq (group), tick_us);

  current->n_encoded++;
  return g_bytes_new_take (text, strlen (text));
}

/* Members' labels go in front: {"label":"ID",...} */
static GBytes *
label_frame (GBytes     *frame,
             const char *label)
{
  gsize length;
  const char *text = g_bytes_get_data (frame, &length);
  char *labelled = g_strdup_printf ("{\"label\":\"%s\",%.*s", label, (int) length - 1, text + 1);

  current->n_labelled++;
  return g_bytes_new_take (labelled, strlen (labelled));
}

static const SondeHubEncoding test_encoding = { "test", count_encode, label_frame };

static void
member_send (gpointer       data,
             SondeHubGroup *group,
             GBytes        *frame)
{
  Member *member = data;

  g_ptr_array_add (member->frames, g_bytes_ref (frame));
  if (member->leave_on_receive)
    {
      member->leave_on_receive = FALSE;
      _sonde_hub_leave (member->fixture->hub, group, member);
      member->group = NULL;
    }
}

static Member *
member_new (Fixture *fixture)
{
  Member *member = g_new0 (Member, 1);

  member->fixture = fixture;
  member->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return member;
}

static void
member_free (Member *member)
{
  g_ptr_array_unref (member->frames);
  g_free (member);
}

static SondeHubGroup *
join (Fixture    *fixture,
      Member     *member,
      const char *id,
      const char *patterns,
      guint       interval_ms)
{
  g_auto(GStrv) list = g_strsplit (patterns, " ", -1);
  SondeFilter *filter = _sonde_filter_new (_sonde_engine_get_catalog (fixture->engine), (const char * const *) list, NULL);

  g_assert_nonnull (filter);
  member->group = _sonde_hub_join (fixture->hub, &test_encoding, NULL, filter, interval_ms,
                                   id, member_send, member);
  return member->group;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->engine = sonde_engine_new ();
  fixture->fake = sonde_fake_collector_new ("fake");
  g_assert_true (sonde_engine_add_collector (fixture->engine, SONDE_COLLECTOR (fixture->fake), NULL));
  /* The engine's own hub: the engine hands it each tick's view. */
  fixture->hub = _sonde_engine_get_hub (fixture->engine);
  current = fixture;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  fixture->hub = NULL;
  g_clear_object (&fixture->fake);
  g_clear_object (&fixture->engine);
  current = NULL;
}

static void
test_hub_one_group_same_bytes (Fixture       *fixture,
                               gconstpointer  data)
{
  Member *members[5];

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      members[i] = member_new (fixture);
      /* The same patterns in another order form the same group. */
      join (fixture, members[i], "default", i % 2 ? "fake.value fake.text" : "fake.text fake.value", 100);
    }

  g_assert_cmpuint (_sonde_hub_get_n_groups (fixture->hub), ==, 1);
  g_assert_cmpuint (_sonde_hub_group_get_n_members (members[0]->group), ==, 5);

  sonde_test_wait_until (members[0]->frames->len >= 3);

  /* One encode per tick for the whole group ... */
  g_assert_cmpuint (fixture->n_encoded, ==, members[0]->frames->len);
  /* ... and the same bytes object handed to every member. */
  for (guint i = 1; i < G_N_ELEMENTS (members); i++)
    {
      g_assert_cmpuint (members[i]->frames->len, ==, members[0]->frames->len);
      for (guint j = 0; j < members[0]->frames->len; j++)
        g_assert_true (g_ptr_array_index (members[i]->frames, j) == g_ptr_array_index (members[0]->frames, j));
    }

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      _sonde_hub_leave (fixture->hub, members[i]->group, members[i]);
      member_free (members[i]);
    }
  g_assert_cmpuint (_sonde_hub_get_n_groups (fixture->hub), ==, 0);
}

static void
test_hub_distinct_groups (Fixture       *fixture,
                          gconstpointer  data)
{
  Member *a = member_new (fixture);
  Member *b = member_new (fixture);
  Member *c = member_new (fixture);
  Member *d = member_new (fixture);

  join (fixture, a, "default", "fake", 1000);
  join (fixture, b, "other-id", "fake", 1000);
  join (fixture, c, "default", "fake", 500);
  join (fixture, d, "default", "fake.value", 1000);
  /* A label is not a group's: a and b share one. */
  g_assert_true (a->group == b->group);
  g_assert_cmpuint (_sonde_hub_get_n_groups (fixture->hub), ==, 3);

  _sonde_hub_leave (fixture->hub, a->group, a);
  _sonde_hub_leave (fixture->hub, b->group, b);
  _sonde_hub_leave (fixture->hub, c->group, c);
  _sonde_hub_leave (fixture->hub, d->group, d);
  g_assert_cmpuint (_sonde_hub_get_n_groups (fixture->hub), ==, 0);

  member_free (a);
  member_free (b);
  member_free (c);
  member_free (d);
}

/* Members differing only by label share the group's one encoding per
 * tick, and each distinct label is applied once per tick, however the
 * members joined. */
static void
test_hub_labels_share_group (Fixture       *fixture,
                             gconstpointer  data)
{
  const char *labels[] = { "a", "b", "a", "b", "c", "a" };
  Member *members[G_N_ELEMENTS (labels)];
  guint ticks;

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      members[i] = member_new (fixture);
      join (fixture, members[i], labels[i], "fake", 100);
    }
  g_assert_cmpuint (_sonde_hub_get_n_groups (fixture->hub), ==, 1);

  sonde_test_wait_until (members[G_N_ELEMENTS (members) - 1]->frames->len >= 3);
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    _sonde_hub_leave (fixture->hub, members[i]->group, members[i]);

  ticks = members[0]->frames->len;
  g_assert_cmpuint (fixture->n_encoded, ==, ticks);
  g_assert_cmpuint (fixture->n_labelled, ==, 3 * ticks);

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      g_assert_cmpuint (members[i]->frames->len, ==, ticks);
      for (guint j = 0; j < ticks; j++)
        {
          GBytes *frame = g_ptr_array_index (members[i]->frames, j);
          g_autoptr(JsonNode) node = json_from_string (g_bytes_get_data (frame, NULL), NULL);

          g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "label"), ==, labels[i]);
          /* Members of one label get the very same bytes. */
          if (g_str_equal (labels[i], "a"))
            g_assert_true (frame == g_ptr_array_index (members[0]->frames, j));
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    member_free (members[i]);
}

static void
test_hub_seq_and_alignment (Fixture       *fixture,
                            gconstpointer  data)
{
  Member *member = member_new (fixture);

  join (fixture, member, "default", "fake", 200);
  sonde_test_wait_until (member->frames->len >= 4);

  for (guint i = 0; i < member->frames->len; i++)
    {
      g_autoptr(JsonNode) node = json_from_string (g_bytes_get_data (g_ptr_array_index (member->frames, i), NULL), NULL);
      JsonObject *object = json_node_get_object (node);

      g_assert_cmpint (json_object_get_int_member (object, "seq"), ==, i + 1);
      /* Ticks fall on wall-clock multiples of the interval. */
      g_assert_cmpint (json_object_get_int_member (object, "tick") % (200 * 1000), ==, 0);
    }

  _sonde_hub_leave (fixture->hub, member->group, member);
  member_free (member);
}

static void
test_hub_leave_while_dispatching (Fixture       *fixture,
                                  gconstpointer  data)
{
  Member *leaver = member_new (fixture);
  Member *stayer = member_new (fixture);
  SondeHubGroup *group;

  join (fixture, leaver, "default", "fake", 100);
  group = join (fixture, stayer, "default", "fake", 100);
  leaver->leave_on_receive = TRUE;

  sonde_test_wait_until (stayer->frames->len >= 3);
  g_assert_cmpuint (leaver->frames->len, ==, 1);
  g_assert_cmpuint (_sonde_hub_group_get_n_members (group), ==, 1);

  _sonde_hub_leave (fixture->hub, stayer->group, stayer);
  member_free (leaver);
  member_free (stayer);
}

static void
test_hub_holds_follow_groups (Fixture       *fixture,
                              gconstpointer  data)
{
  Member *member = member_new (fixture);
  SondeCollector *collector = SONDE_COLLECTOR (fixture->fake);
  g_autoptr(SondeFakeCollector) late = NULL;

  g_assert_false (sonde_collector_get_running (collector));
  join (fixture, member, "default", "*", 100);
  sonde_test_wait_until (sonde_collector_get_running (collector));

  /* A collector added later joins groups whose patterns match it. */
  late = sonde_fake_collector_new ("late");
  g_assert_true (sonde_engine_add_collector (fixture->engine, SONDE_COLLECTOR (late), NULL));
  sonde_test_wait_until (sonde_fake_collector_get_n_collected (late) >= 2);

  /* The last member leaving releases the holds: collectors stop. */
  _sonde_hub_leave (fixture->hub, member->group, member);
  sonde_test_wait_until (!sonde_collector_get_running (collector) &&
                         !sonde_collector_get_running (SONDE_COLLECTOR (late)));

  member_free (member);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/hub/one-group-same-bytes", test_hub_one_group_same_bytes);
  ADD ("/hub/distinct-groups", test_hub_distinct_groups);
  ADD ("/hub/labels-share-group", test_hub_labels_share_group);
  ADD ("/hub/seq-and-alignment", test_hub_seq_and_alignment);
  ADD ("/hub/leave-while-dispatching", test_hub_leave_while_dispatching);
  ADD ("/hub/holds-follow-groups", test_hub_holds_follow_groups);
#undef ADD

  return g_test_run ();
}
