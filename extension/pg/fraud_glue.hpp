#pragma once
// Shared plain-C helpers of the fraud engine's glue: reading/writing techmart.customer_state,
// the per-statement configuration, and conversions. See trigger.cpp for the cache design.
#include "boundary.hpp"
#include "params.hpp"
#include "techmart/core/fraud_state.hpp"
#include "techmart/core/scoring.hpp"

namespace techmart::pg::fraud {

// Epoch seconds <-> TimestampTz (microseconds since 2000-01-01).
double ts_to_epoch(TimestampTz ts);
TimestampTz epoch_to_ts(double t);

// One customer_state row as stored: plain values (decoded from SPI; C only).
struct RawState {
  int64 n;
  double mean, m2;
  int hist_len;
  int32 hist[core::kHistBins];
  int recent_len;
  double recent_t[core::kRecent], recent_a[core::kRecent];
  int hours_len;
  double hours[24];
  double profile_time;
  bool has_last;
  double last_time;
  double last_amount;
  bool has_last_loc;
  double last_lat, last_lon;
  char last_country[3];
  uint32 methods;
  double risk, risk_time;
};

// Columns selected by state_select_list(), in this order.
#define TECHMART_STATE_COLUMNS                                                                  \
  "s.n, s.mean, s.m2, s.amount_hist, s.recent_t, s.recent_a, s.hour_profile, s.profile_time, "  \
  "s.last_transaction_time, s.last_amount, s.last_lat, s.last_lon, s.last_country, s.methods, " \
  "s.risk, s.risk_time"
constexpr int kStateColumns = 16;

// Decodes columns first..first+15 of an SPI tuple. May raise (plain C).
void decode_state(HeapTuple tup, TupleDesc desc, int first, RawState* out);
// The same from the 16 values in that order (e.g. read from the table's own tuple).
void decode_state_values(const Datum* values, const bool* isnull, RawState* out);
// C++ (throws): raw -> core state, validated.
core::CustomerState to_core(const RawState& raw, int64 customer_id);

// Parameters $2..$17 of a state write (n, mean, m2, amount_hist, recent_t, recent_a,
// hour_profile, profile_time, last_transaction_time, last_amount, last_lat, last_lon,
// last_country, methods, risk, risk_time). Plain C; palloc in the current context.
constexpr int kStateParams = 16;
void encode_state(const core::CustomerState& s, Datum* values, char* nulls);
// "n = $2, mean = $3, ..." for UPDATE, and the column list for INSERT.
extern const char* const kStateSetList;
extern const char* const kStateColumnList;
extern const char* const kStateValueList;

// Batched write-back (one UPDATE per cache flush): the array type techmart.customer_state[]
// (resolved by name; InvalidOid element when absent) and an array of that type holding
// `n` states (customer_id and the columns of encode_state; updated_at and any other column NULL).
// Plain C; palloc in the current context.
Oid state_array_type(Oid* element_type);
Datum make_state_array(Oid element_type, int n, const int64* ids,
                       const core::CustomerState* const* states);
// "n = u.n, mean = u.mean, ..., updated_at = now()": SET list of an UPDATE ... FROM unnest() u.
extern const char* const kStateSetFromList;

// Customer risk 0..100 rounded to 2 decimals, as numeric(5,2) text.
void risk_text(const core::CustomerState& s, const core::StateParams& p, char* buf, size_t n);

// ------------------------------------------------------------------ configuration snapshot
struct ConfigRow {
  const char* rule;
  bool enabled;
  double weight;
  double threshold;
  NumericParams params;
};

// Everything read once per statement (plain C data, palloc'd in a statement context).
struct ConfigSnapshot {
  int nrules;
  ConfigRow* rules;
  double suspicious_threshold;
  double reason_min_contribution;
  double bias;
  double hour_half_life_days, risk_half_life_days, risk_floor;
  int ncountries;
  char (*countries)[3];
  uint32 high_risk_methods;
  bool has_population;
  double pop_mean, pop_sd;
  int64 pop_n;
  int ncats;
  int64* cat_ids;
  double *cat_mean, *cat_sd;
  int64* cat_n;
  bool has_hours;
  double hours[24];
};

// Reads the configuration tables (SPI must be connected). Plain C.
void load_config(ConfigSnapshot* cfg);

// The C++ objects built from a snapshot (throws; build under guarded()).
struct Engine {
  core::Scorer scorer;
  core::ScoringEnv env;
  core::StateParams params;
  double suspicious_threshold;
  double min_contribution;
};
Engine* build_engine(const ConfigSnapshot& cfg);

// Scoring input of one row (what the row carries; customer info added by the caller).
struct RowInput {
  double amount;
  double unit_price;
  double time;
  char country[3];
  bool has_location;
  double lat, lon;
  int method;
};

// One reason of a scored row as plain data (core::Reason without std::string).
struct PlainReason {
  char* rule;  // palloc'd
  char* detail;
  double observed, threshold, contribution, weight;  // weight NaN: not shown
};

struct ScoreOutput {
  double score;  // rounded to 2 decimals
  bool suspicious;
  char* reasons_json;  // palloc'd in the given context (NULL: not asked for, see score_row)
  int nreasons;
  PlainReason* reasons;  // the same reasons, palloc'd in the given context
  char top_rules[160];
};

// fraud_reasons as jsonb written from out.reasons: the same bytes as jsonb_in(out.reasons_json)
// without writing and parsing the text or building a JsonbValue tree (jsonb_writer.hpp). Plain C;
// palloc in the current context.
Datum reasons_jsonb(const ScoreOutput& out);

// A plain (uncompressed, in-line, 4-byte header) varlena datum of at least kCompressMinBytes,
// compressed in line with lz4 (pglz on a server built without lz4) when that makes it smaller;
// otherwise d itself. The row the engine writes (fraud_reasons, the state's arrays) then carries
// fewer bytes: less WAL per INSERT (the heap insert and the state's update record hold the
// compressed bytes) and fewer pages. Readers detoast as for any compressed value (the same
// value); PostgreSQL's own toaster only compresses a row above ~2 kB. Plain C; palloc.
inline constexpr Size kCompressMinBytes = 128;
Datum compress_inline(Datum d);

// Which rows get out.reasons_json (otherwise NULL): the trigger needs the text for an alert only
// (fraud_reasons is built by reasons_jsonb()).
enum class ReasonsText { kAlways, kIfSuspicious, kNever };

// C++ (throws): scores the row from `state` (the state before it) and folds it into `next`.
void score_row(const Engine& e, const core::CustomerState& state, const core::TransactionInput& tx,
               core::CustomerState& next, ScoreOutput& out, MemoryContext result_ctx,
               ReasonsText text = ReasonsText::kAlways);

// SPI_prepare + SPI_keepplan. generic: always the generic plan (e.g. a statement over an array
// parameter, whose custom plans for a large array would scan a whole table).
SPIPlanPtr prepare_kept(const char* sql, int nargs, Oid* argtypes, bool generic = false);

// Is rel <schema>.transactions, or a partition of it (techmart_ops.partition_transactions(),
// docs/scaling.md)? Only such rows raise alerts and shadow scores (they reference transactions).
bool is_transactions_table(Relation rel);

}  // namespace techmart::pg::fraud
