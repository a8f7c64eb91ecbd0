/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-engine-private.h"
#include "sonde-error.h"
#include "sonde-native-frames-private.h"
#include "sonde-subscription.h"

/**
 * SondeSubscription:
 *
 * An in-process subscriber of the native protocol: it receives, through
 * #SondeSubscription::frame, the very JSON text that a WebSocket client
 * of `/ws/v1` with the same subscription id, patterns and interval
 * receives, because both are members of the same group of the engine's
 * subscription manager.
 *
 * ```python
 * sub = Sonde.Subscription.new(engine, "default", ["cpu.usage_percent"], 1000)
 * sub.connect("frame", lambda sub, text: print(text))
 * ```
 *
 * Since: 0.1
 */
struct _SondeSubscription
{
  GObject        parent_instance;

  SondeEngine   *engine;
  SondeHubGroup *group;
  char          *id;
  guint          interval_ms;
};

enum {
  FRAME,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SondeSubscription, sonde_subscription, G_TYPE_OBJECT)

static void
sonde_subscription_dispose (GObject *object)
{
  SondeSubscription *self = SONDE_SUBSCRIPTION (object);

  sonde_subscription_cancel (self);

  G_OBJECT_CLASS (sonde_subscription_parent_class)->dispose (object);
}

static void
sonde_subscription_finalize (GObject *object)
{
  SondeSubscription *self = SONDE_SUBSCRIPTION (object);

  g_free (self->id);

  G_OBJECT_CLASS (sonde_subscription_parent_class)->finalize (object);
}

static void
sonde_subscription_class_init (SondeSubscriptionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sonde_subscription_dispose;
  object_class->finalize = sonde_subscription_finalize;

  /**
   * SondeSubscription::frame:
   * @self: a #SondeSubscription
   * @json: the snapshot message, as sent on `/ws/v1`
   *
   * Emitted at each due tick with the subscription's snapshot.
   *
   * Since: 0.1
   */
  signals[FRAME] =
    g_signal_new ("frame",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
sonde_subscription_init (SondeSubscription *self)
{
}

static void
frame_cb (gpointer       member,
          SondeHubGroup *group,
          GBytes        *frame)
{
  SondeSubscription *self = member;
  gsize length;
  const char *data = g_bytes_get_data (frame, &length);
  g_autofree char *text = g_strndup (data, length);

  g_signal_emit (self, signals[FRAME], 0, text);
}

/**
 * sonde_subscription_new:
 * @engine: a #SondeEngine
 * @id: (nullable): the subscription id carried by each frame; %NULL
 *   means "default"
 * @patterns: (array zero-terminated=1): metric patterns, such as
 *   "cpu.usage_percent", "memory.*" or "*"
 * @interval_ms: the interval between frames, 100 to 60000 ms
 * @error: return location for a #GError
 *
 * Subscribes in-process. The collectors the patterns need are sampled for
 * as long as the subscription lives (until sonde_subscription_cancel() or
 * its last reference goes).
 *
 * Returns: (transfer full) (nullable): a new #SondeSubscription, or %NULL
 *   if a pattern is invalid or names an unknown metric
 *
 * Since: 0.1
 */
SondeSubscription *
sonde_subscription_new (SondeEngine         *engine,
                        const char          *id,
                        const char * const  *patterns,
                        guint                interval_ms,
                        GError             **error)
{
  SondeSubscription *self;
  SondeFilter *filter;

  g_return_val_if_fail (SONDE_IS_ENGINE (engine), NULL);

  if (interval_ms < SONDE_INTERVAL_MIN_MS || interval_ms > SONDE_INTERVAL_MAX_MS)
    {
      g_set_error (error, SONDE_ERROR, SONDE_ERROR_INVALID_ARGUMENT,
                   "Interval %u ms is outside %u-%u ms",
                   interval_ms, SONDE_INTERVAL_MIN_MS, SONDE_INTERVAL_MAX_MS);
      return NULL;
    }

  filter = _sonde_filter_new (_sonde_engine_get_catalog (engine), patterns, error);
  if (filter == NULL)
    return NULL;

  self = g_object_new (SONDE_TYPE_SUBSCRIPTION, NULL);
  self->engine = g_object_ref (engine);
  self->id = g_strdup (id ? id : "default");
  self->interval_ms = interval_ms;
  self->group = _sonde_hub_join (_sonde_engine_get_hub (engine), &_sonde_native_snapshot_encoding,
                                 NULL, filter, interval_ms, self->id, frame_cb, self);
  return self;
}

/**
 * sonde_subscription_get_id:
 * @self: a #SondeSubscription
 *
 * Returns: the subscription id that frames carry
 *
 * Since: 0.1
 */
const char *
sonde_subscription_get_id (SondeSubscription *self)
{
  g_return_val_if_fail (SONDE_IS_SUBSCRIPTION (self), NULL);
  return self->id;
}

/**
 * sonde_subscription_get_interval:
 * @self: a #SondeSubscription
 *
 * Returns: the interval between frames, in milliseconds
 *
 * Since: 0.1
 */
guint
sonde_subscription_get_interval (SondeSubscription *self)
{
  g_return_val_if_fail (SONDE_IS_SUBSCRIPTION (self), 0);
  return self->interval_ms;
}

/**
 * sonde_subscription_cancel:
 * @self: a #SondeSubscription
 *
 * Stops the frames. Collectors nobody else needs stop too.
 *
 * Since: 0.1
 */
void
sonde_subscription_cancel (SondeSubscription *self)
{
  g_return_if_fail (SONDE_IS_SUBSCRIPTION (self));

  if (self->group != NULL)
    {
      _sonde_hub_leave (_sonde_engine_get_hub (self->engine), self->group, self);
      self->group = NULL;
    }
  g_clear_object (&self->engine);
}
