/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "sonde-metric.h"

G_BEGIN_DECLS

/* How catalog metrics and the collectors' tables are named in the
 * exposition (sonde-prometheus-names.c); the encoder builds on it. */

typedef enum
{
  FAMILY_GAUGE,
  FAMILY_COUNTER,
  FAMILY_INFO,
} FamilyType;

/* How one numeric value is exported: its sample name, its family name in
 * OpenMetrics (without `_total`), and the factor to its base unit. */
typedef struct
{
  GString    *name;
  GString    *om_name;
  FamilyType  type;
  const char *om_unit;
  double      multiply;
  double      divide;
  char       *unit_note;   /* a unit this file does not know, for the HELP */
} ExportName;

typedef enum
{
  SHAPE_OBJECTS,   /* [{label: "...", value: 1}, ...] */
  SHAPE_NUMBERS,   /* [1, 2, ...]: the index is the label */
  SHAPE_MAP,       /* {"key": 1, ...}: the key is the label */
} TableShape;

typedef struct
{
  const char      *member;   /* the row's member, or NULL for the row itself */
  const char      *field;    /* the name given to it, if not the member's */
  const char      *unit;
  SondeMetricKind  kind;
  const char      *help;
} TableColumn;

typedef struct
{
  const char *member;
  const char *label;
} TableLabel;

typedef struct
{
  const char  *collector;
  const char  *field;
  const char  *prefix;      /* after "sonde_<collector>_" */
  TableShape   shape;
  const char  *key_label;   /* SHAPE_NUMBERS and SHAPE_MAP */
  TableLabel   labels[4];
  TableColumn  columns[8];
} TableSchema;

/* Letters, digits and underscores; anything else becomes an underscore. */
void               _sonde_prometheus_append_sanitized  (GString         *out,
                                                        const char      *text);
void               _sonde_prometheus_export_name_init  (ExportName      *export,
                                                        const char      *prefix,
                                                        const char      *field,
                                                        const char      *unit,
                                                        SondeMetricKind  kind);
void               _sonde_prometheus_export_name_clear (ExportName      *export);
/* The schema of a table the collectors report, or NULL. */
const TableSchema *_sonde_prometheus_find_table_schema (const char      *collector,
                                                        const char      *field);

G_END_DECLS
