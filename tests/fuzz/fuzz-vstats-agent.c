/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <math.h>

#include "sonde-json-private.h"
#include "sonde-vstats-private.h"

#include "fuzz-util.h"

/*
 * What a vstats agent sends the hub (/ws/agent), as the hub takes it:
 * the message read from its text (sonde-vstats-check.c), a `metrics`
 * report checked, then what the hub makes of a report it accepted: the
 * network rates, the history values, the native tick view and the
 * dashboards' `metrics` message.
 *
 * An accepted report holds only numbers that are finite and within
 * their ranges (percentages 0-100), and what goes to dashboards is JSON.
 */

static void
check_percent (double      value,
               const char *what)
{
  fuzz_check (isnan (value) || (value >= 0 && value <= 100), "%s %g", what, value);
}

static void
check_report (JsonObject *data)
{
  g_auto(SondeVstatsReport) report = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(SondeTickView) view = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autofree char *agent_id = NULL;
  double values[VSTATS_N_HISTORY];

  if (!_sonde_vstats_parse_report (data, &report, &error))
    {
      fuzz_check (g_utf8_validate (error->message, -1, NULL), "error not UTF-8");
      frame = _sonde_vstats_encode_error (error->message);
      fuzz_assert_json_bytes (frame);
      return;
    }

  fuzz_check (report.metrics != NULL, "no metrics");
  fuzz_check (report.hostname == NULL || *report.hostname != '\0', "an empty hostname");
  if (report.hostname != NULL)
    {
      agent_id = _sonde_vstats_make_agent_id (report.hostname);
      fuzz_check (agent_id != NULL && *agent_id != '\0', "no id for %s", report.hostname);
    }
  if (!report.has_rates)
    _sonde_vstats_set_rates (report.metrics, 0, 0);

  _sonde_vstats_history_values (report.metrics, values);
  for (guint i = 0; i < VSTATS_N_HISTORY; i++)
    fuzz_check (isnan (values[i]) || (isfinite (values[i]) && values[i] >= 0),
                "history value %s = %g", _sonde_vstats_history_metrics[i], values[i]);
  check_percent (values[VSTATS_H_CPU_USAGE], "cpu usage");
  check_percent (values[VSTATS_H_MEM_PERCENT], "memory usage");
  check_percent (values[VSTATS_H_DISK_PERCENT], "disk usage");

  view = _sonde_vstats_metrics_to_view (report.metrics, report.timestamp_us);
  fuzz_check (view != NULL, "no view");

  frame = _sonde_vstats_encode_metrics ("fuzz", report.metrics, report.timestamp_us);
  fuzz_assert_json_bytes (frame);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_auto(SondeVstatsAgentMessage) message = { 0, };
  g_autoptr(GError) error = NULL;

  if (!_sonde_vstats_read_agent_message (SOUP_WEBSOCKET_DATA_TEXT, (const char *) data, size,
                                         &message, &error))
    {
      g_autoptr(GBytes) frame = NULL;

      fuzz_check (message.data == NULL && !message.heartbeat, "refused, with a message");
      frame = _sonde_vstats_encode_error (error->message);
      fuzz_assert_json_bytes (frame);
      return 0;
    }

  fuzz_check (message.heartbeat == (message.data == NULL), "heartbeat %d, data %p",
              message.heartbeat, (void *) message.data);
  if (message.data != NULL)
    check_report (message.data);
  return 0;
}
