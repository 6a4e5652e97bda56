#pragma once
// The one place server headers are included. C++ standard headers must come first: the server's
// port.h redefines snprintf & co. as macros, which breaks <cstdio> if it is included afterwards.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

// techmart.so is built with hidden visibility; PostgreSQL 16+ marks fmgr entry points with a
// visibility attribute itself, 15 leaves PGDLLEXPORT empty on ELF platforms.
#ifndef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#endif

extern "C" {
#include "postgres.h"
// postgres.h must be first among the server headers
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}
