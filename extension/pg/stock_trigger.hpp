#pragma once
// Sales move the stock (sqitch change stock_sales, extension/pg/stock_trigger.cpp): the GUCs of
// the statement trigger analytics.stock_statement_trigger(), defined from _PG_init (trigger.cpp)
// before the "techmart" prefix is reserved.
namespace techmart::pg::stock {

// techmart.track_stock (bool, default on) and techmart.actor (text, default '')
void define_gucs();

}  // namespace techmart::pg::stock
