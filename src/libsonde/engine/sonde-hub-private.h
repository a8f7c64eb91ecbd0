/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-engine.h"
#include "sonde-filter-private.h"
#include "sonde-tick-view-private.h"

G_BEGIN_DECLS

/*
 * The subscription manager. Subscriptions with the same dialect,
 * encoding parameters, interval and filter form a group; at each due tick
 * the group's frame is encoded once and the same bytes are handed to every
 * member. A member's cost per tick is one send. What differs between
 * members (a client's own subscription id) is not part of the group: the
 * member adds it to the shared frame, so identical subscriptions of many
 * clients cost one group.
 */
typedef struct _SondeHub      SondeHub;
typedef struct _SondeHubGroup SondeHubGroup;

/* The group's frame of the tick @view describes, or NULL for none. */
typedef GBytes *(*SondeHubEncodeFunc) (SondeHubGroup *group,
                                       SondeTickView *view);
/* The group's frame made a member's own: @label is what the member gave
 * when it joined (the native protocol's subscription id). */
typedef GBytes *(*SondeHubLabelFunc)  (GBytes        *frame,
                                       const char    *label);
typedef void    (*SondeHubSendFunc)   (gpointer       member,
                                       SondeHubGroup *group,
                                       GBytes        *frame);

/* A dialect's way of encoding groups, one static instance per dialect. */
typedef struct
{
  const char         *dialect;
  SondeHubEncodeFunc  encode;
  SondeHubLabelFunc   label;   /* NULL: members take the frame as it is */
} SondeHubEncoding;

SondeHub      *_sonde_hub_new                      (SondeEngine        *engine);
void           _sonde_hub_free                     (SondeHub           *self);
/* Encodes the frame of every group due at @view's tick, once, and hands
 * it to each member, labelled once per distinct label. */
void           _sonde_hub_dispatch                 (SondeHub           *self,
                                                    SondeTickView      *view);
SondeHubGroup *_sonde_hub_join                     (SondeHub               *self,
                                                    const SondeHubEncoding *encoding,
                                                    const char             *params,
                                                    SondeFilter            *filter,
                                                    guint                   interval_ms,
                                                    const char             *label,
                                                    SondeHubSendFunc        send,
                                                    gpointer                member);
void           _sonde_hub_leave                    (SondeHub           *self,
                                                    SondeHubGroup      *group,
                                                    gpointer            member);
guint          _sonde_hub_get_n_groups             (SondeHub           *self);
guint64        _sonde_hub_get_n_encoded            (SondeHub           *self);

/* What the encoder needs beyond filter and interval, as given to join. */
const char    *_sonde_hub_group_get_params         (SondeHubGroup      *group);
SondeFilter   *_sonde_hub_group_get_filter         (SondeHubGroup      *group);
guint          _sonde_hub_group_get_interval       (SondeHubGroup      *group);
guint64        _sonde_hub_group_get_seq            (SondeHubGroup      *group);
guint          _sonde_hub_group_get_n_members      (SondeHubGroup      *group);
/* What an encoder prepares once per group (parsed patterns), kept until
 * the group goes. */
gpointer       _sonde_hub_group_get_encoder_data   (SondeHubGroup      *group);
void           _sonde_hub_group_set_encoder_data   (SondeHubGroup      *group,
                                                    gpointer            data,
                                                    GDestroyNotify      destroy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SondeHub, _sonde_hub_free)

G_END_DECLS
