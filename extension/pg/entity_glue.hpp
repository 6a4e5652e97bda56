#pragma once
// Entity risk in the insert path (docs/entity-risk.md): the scoring trigger calls observe()
// before scoring a row and shadow() after it. Both are plain C (SPI connected, may raise) and
// keep no C++ object with a destructor alive.
#include "fraud_glue.hpp"
#include "techmart/core/entity.hpp"

namespace techmart::pg::entity {

// Fills `in` with the verdict counters of the row's entities for the entity rules enabled in
// `scorer` (one indexed lookup per kind and entity, cached for the statement). Returns false
// (and leaves `in` unused) when no entity rule is enabled.
bool observe(const core::Scorer& scorer, Relation rel, HeapTuple tuple, int64 customer_id,
             int64 product_id, const core::TransactionInput& tx, core::EntityInput* in);

// The scoring trigger reads techmart.config_version and techmart.entity_version in the first
// query of each statement and hands the tokens over: observe() and shadow() then compare them
// instead of querying the tables again in this statement (one SPI execution each saved).
void statement_tokens(const char* config_token, const char* entity_token);
void note_entity_token(const char* entity_token);  // entity.cpp

}  // namespace techmart::pg::entity

namespace techmart::pg::entity {

// Scores the row with every active shadow configuration (techmart.shadow_config) from the same
// customer state (before the row) and stores the results in techmart.shadow_scores: never an
// alert, never a change of the row or of the state. Reads techmart.config_version once per
// statement and rebuilds the shadow engines when it changed. transaction_id < 0: nothing stored.
// Plain C (SPI connected).
void shadow(int64 transaction_id, const core::CustomerState& state,
            const core::TransactionInput& tx, Relation rel, HeapTuple tuple, int64 customer_id,
            int64 product_id);

}  // namespace techmart::pg::entity
