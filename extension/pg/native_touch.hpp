#pragma once
// The first touch of a customer without the SPI executor (trigger.cpp, docs/fraud.md "The insert
// path"): the state row of techmart.customer_state is found through its primary key and locked
// with table_tuple_lock() -- what SELECT ... FOR UPDATE does, without planning and starting an
// executor per customer -- and the customer, the product and the statement's configuration tokens
// are read through their primary keys / one-row tables, all under one snapshot taken the way SPI
// takes it (CommandCounterIncrement, GetTransactionSnapshot). Plain C: every function may raise;
// no C++ object with a destructor lives meanwhile.
#include "fraud_glue.hpp"

namespace techmart::pg::native {

// What one touch read.
struct Touch {
  fraud::RawState state;
  char home_country[3];  // customers.country ("" when NULL)
  bool has_registered;
  TimestampTz registered;  // customers.registration_date
  char risk_text[16];      // customers.risk_score as text ("" when NULL, or unknown: the
                           // state row was changed after the snapshot it was read with)
  bool product_found;      // the product row (product_id >= 0 asked for)
  bool null_price, null_category;
  double price;
  int64 category_id;
  char token[64];         // techmart.config_version (xmin/version), want_tokens only
  char entity_token[64];  // techmart.entity_version (xmin/version), want_tokens only
  ItemPointerData tid;    // the state row's version locked (kOk)
};

enum class TouchResult {
  kOk,
  kNoCustomer,  // no such customer: nothing locked
  kNoState,     // the customer has no state row yet (or it was deleted concurrently under READ
                // COMMITTED): create it and touch again
  kUnavailable  // the tables are not the expected ones, row-level security is on, Citus is
                // loaded, or the user lacks a privilege the SPI query needs: use the SPI query
};

// Locks and reads the state of customer_id (FOR UPDATE: waits for a concurrent holder and, under
// READ COMMITTED, locks the latest version) and reads its customer, with the product
// (product_id >= 0) and the tokens (want_tokens: the first touch of a statement, which also
// checks privileges and row-level security again), under one new snapshot; the tables of schema
// nsp (customers, products) and techmart's. Raises 40001 under REPEATABLE READ / SERIALIZABLE
// when the state row was changed concurrently, as SELECT ... FOR UPDATE does.
TouchResult touch(Oid nsp, int64 customer_id, int64 product_id, bool want_tokens, Touch* out);

// The product alone (its customer already cached in this statement).
TouchResult product(Oid nsp, int64 product_id, Touch* out);

// The write-back of one state without the executor: the version `tid` this transaction locked at
// the touch (same statement) becomes the state of values/nulls (the 16 state columns in the order
// of fraud::encode_state, updated_at = now()), by heap_update() after the table's CHECK
// (customer_state_valid(), raising 23514 as the executor would), with the primary key's index
// entry when the update is not HOT. False, with nothing written: the table is not exactly the
// engine's (see writable() in native_touch.cpp), the statement's privileges/RLS check did not
// pass, or the version is not the locked one any more -- the caller writes by SPI.
bool write_state(int64 customer_id, ItemPointerData tid, const Datum* values, const char* nulls);

// customers.risk_score of customers ids[0..n) set to risks[i] (numeric) without the executor, in
// that order (the caller's: customer id), each only when it differs (as the SPI UPDATE's
// risk_score IS DISTINCT FROM): the version visible to a new snapshot (CommandCounterIncrement,
// GetTransactionSnapshot, as SPI takes it) updated by heap_update(), with the entries of every
// index (ExecInsertIndexTuples) when the update is not HOT. done[i]: written (or equal). Not done,
// with nothing written for that customer: customers is not as the migrations make it (see
// risk_writable() in native_touch.cpp: a user trigger, a rule, another CHECK on risk_score...),
// the privileges/RLS check did not pass, or the row changed after the snapshot -- the caller
// writes those by SPI. Returns the number done.
int write_risks(const int64* ids, const Datum* risks, int n, bool* done);

}  // namespace techmart::pg::native
