/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "sonde-discovery-private.h"

#include "fuzz-util.h"

/*
 * A UDP datagram to the discovery responder, from anyone on the network:
 * is it a probe (SONDE_DISCOVER, or {"type":"discover"})? Nothing it holds
 * may log a warning or a critical: the responder promises not to be
 * turned into a log flood.
 */

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The responder drops larger datagrams unread. */
  if (size > SONDE_DISCOVERY_MAX_DATAGRAM)
    return 0;

  _sonde_discovery_is_probe ((const char *) data, size);
  return 0;
}
