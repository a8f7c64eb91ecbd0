/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sonde-event.h"

G_BEGIN_DECLS

/* A copy of @object sharing no JsonObject, JsonArray, JsonNode or
 * JsonValue with it: json-glib's reference counts are not atomic, so
 * what crosses threads must not be shared. */
JsonObject *_sonde_json_object_deep_copy (JsonObject *object);

G_END_DECLS
