#include "query_routes.h"

#include <cmath>
#include <cstdlib>
#include <regex>

#include "http.h"

namespace techmart::api {
namespace {

// SQL fragments: $n as a time, with a default.
std::string t(int n, const std::string& field) {
  return "api.rest_time($" + std::to_string(n) + ", '" + field + "')";
}
std::string to_or_now(int n) { return "coalesce(" + t(n, "to") + ", now())"; }
std::string from_or(int n_from, int n_to, const std::string& back) {
  return "coalesce(" + t(n_from, "from") + ", " + to_or_now(n_to) + " - interval '" + back + "')";
}
std::string as_of(int n) { return "coalesce(" + t(n, "as_of") + ", now())"; }
std::string sel(const std::string& call) { return "SELECT " + call + "::text"; }

QueryParam time_param(const std::string& name, const std::string& description) {
  return {name, QueryKind::Time, 0, 0, {}, description};
}
QueryParam int_param(const std::string& name, double lo, double hi,
                     const std::string& description) {
  return {name, QueryKind::Integer, lo, hi, {}, description};
}
QueryParam enum_param(const std::string& name, std::vector<std::string> values,
                      const std::string& description) {
  return {name, QueryKind::Text, 0, 0, std::move(values), description};
}

QueryParam from_p(const std::string& dflt) {
  return time_param("from", "Start of the range (inclusive). Default: " + dflt + " before `to`.");
}
QueryParam to_p() { return time_param("to", "End of the range (exclusive). Default: now."); }
QueryParam as_of_p() {
  return time_param("as_of",
                    "Point in time the figures are computed for (imported history has no "
                    "\"today\"). Default: now.");
}

std::vector<QueryRoute> build() {
  std::vector<QueryRoute> r;
  const std::vector<std::string> dims = {"all",     "product",  "category",
                                         "country", "platform", "payment_method"};
  r.push_back({"/dashboard/overview",
               Role::Viewer,
               "q_dashboard_overview",
               sel("api.dashboard_overview(" + as_of(1) + ")"),
               {as_of_p()},
               "Today (business time zone, midnight to as_of) against yesterday at the same time"});
  r.push_back({"/dashboard/summary",
               Role::Viewer,
               "q_dashboard_summary",
               sel("api.dashboard_summary(" + as_of(1) + ")"),
               {as_of_p()},
               "Overview, hourly sales of the last 24 hours and the last 7 days' top products "
               "and breakdowns"});
  r.push_back({"/analytics/hourly-sales",
               Role::Viewer,
               "q_hourly_sales",
               sel("api.hourly_sales(" + from_or(1, 2, "24 hours") + ", " + to_or_now(2) +
                   ", coalesce($3, 'all'), $4)"),
               {from_p("24 hours"),
                to_p(),
                enum_param("dimension", dims, "Sales of one dimension value. Default: all."),
                {"key", QueryKind::Text, 0, 0, {}, "The dimension value (required unless all)."}},
               "Sales per UTC hour (zero-filled, at most 366 days), each labelled with its local "
               "time and UTC offset in the business time zone (2026-10-25T02:00+01:00)"});
  r.push_back({"/analytics/revenue",
               Role::Viewer,
               "q_revenue",
               sel("api.analytics_revenue(coalesce($1, 'day'), " + from_or(2, 3, "30 days") + ", " +
                   to_or_now(3) + ")"),
               {enum_param("period", {"hour", "day", "week", "month", "year"},
                           "Bucket size. hour: one bucket per UTC hour, labelled with its local "
                           "time and UTC offset in the business time zone "
                           "(2026-10-25T02:00+01:00); day, week, month, year: periods of the "
                           "business time zone's calendar. Default: day."),
                from_p("30 days"), to_p()},
               "Revenue, orders, units per period"});
  const struct {
    const char* path;
    const char* period;
    const char* back;
    const char* label;
  } periods[] = {{"daily", "day", "30 days", "30 days"},
                 {"weekly", "week", "182 days", "26 weeks"},
                 {"monthly", "month", "365 days", "365 days"},
                 {"annual", "year", "1826 days", "5 years"}};
  for (const auto& p : periods) {
    r.push_back({std::string("/analytics/revenue/") + p.path,
                 Role::Viewer,
                 std::string("q_revenue_") + p.path,
                 sel(std::string("api.analytics_revenue('") + p.period + "', " +
                     from_or(1, 2, p.back) + ", " + to_or_now(2) + ")"),
                 {from_p(p.label), to_p()},
                 std::string("Revenue per ") + p.period + " (business time zone)"});
  }
  r.push_back({"/analytics/revenue/compare",
               Role::Viewer,
               "q_revenue_compare",
               sel("api.analytics_compare(" + from_or(1, 2, "7 days") + ", " + to_or_now(2) + ", " +
                   t(3, "previous_from") + ", " + t(4, "previous_to") + ")"),
               {from_p("7 days"), to_p(),
                time_param("previous_from",
                           "Start of the period compared with. Default: the period of the same "
                           "length just before `from` (give both or neither)."),
                time_param("previous_to", "End of the period compared with.")},
               "Metrics of a period against a previous one ({value, previous, change, "
               "change_pct})"});
  const struct {
    const char* path;
    const char* dim;
  } breakdowns[] = {{"by-category", "category"},
                    {"by-platform", "platform"},
                    {"by-country", "country"},
                    {"by-supplier", "supplier"},
                    {"by-payment-method", "payment_method"},
                    {"by-product", "product"}};
  for (const auto& b : breakdowns) {
    r.push_back(
        {std::string("/analytics/revenue/") + b.path,
         Role::Viewer,
         std::string("q_breakdown_") + b.dim,
         sel(std::string("api.analytics_breakdown('") + b.dim + "', " + from_or(1, 2, "30 days") +
             ", " + to_or_now(2) + ", coalesce($3::integer, 50))"),
         {from_p("30 days"), to_p(),
          int_param("limit", 1, 1000, "Most rows returned (by revenue). Default: 50.")},
         std::string("Revenue, orders and units by ") + b.dim});
  }
  r.push_back(
      {"/analytics/forecast/revenue",
       Role::Viewer,
       "q_forecast_revenue",
       sel("api.forecast_revenue(coalesce($1, 'day'), $2::integer, $3::integer, $4::float8, " +
           as_of(5) + ")"),
       {enum_param("granularity", {"day", "hour"},
                   "day: days of the business time zone (weekly season); hour: UTC hours "
                   "(daily season). Default: day."),
        int_param("horizon", 1, 336,
                  "Buckets forecast after the last complete one (day: at most 90). Default: 14 "
                  "days / 48 hours."),
        int_param("history", 14, 2208,
                  "Complete buckets before as_of the model is fitted on (at least two seasons; "
                  "day: at most 1095). Default: 56 days / 336 hours."),
        {"level", QueryKind::Number, 0.5, 0.999, {}, "Prediction interval level. Default: 0.95."},
        as_of_p()},
       "Revenue history and its Holt-Winters forecast with a prediction interval (422 when "
       "fewer than two seasons of sales exist); every point labelled as /analytics/revenue "
       "labels its bucket (hour: local time and UTC offset; day: the business day)"});
  r.push_back({"/analytics/patterns/hour-of-day",
               Role::Viewer,
               "q_pattern_hour",
               sel("api.analytics_patterns('hour_of_day', " + from_or(1, 2, "28 days") + ", " +
                   to_or_now(2) + ")"),
               {from_p("28 days"), to_p()},
               "Sales by hour of day (business time zone)"});
  r.push_back({"/analytics/patterns/day-of-week",
               Role::Viewer,
               "q_pattern_dow",
               sel("api.analytics_patterns('day_of_week', " + from_or(1, 2, "28 days") + ", " +
                   to_or_now(2) + ")"),
               {from_p("28 days"), to_p()},
               "Sales by day of week (business time zone)"});
  r.push_back({"/analytics/growth",
               Role::Viewer,
               "q_growth",
               sel("api.analytics_growth(coalesce($1, 'month'), " + from_or(2, 3, "365 days") +
                   ", " + to_or_now(3) + ")"),
               {enum_param("period", {"day", "week", "month", "year"}, "Default: month."),
                from_p("365 days"), to_p()},
               "Revenue growth per period against the period before"});
  r.push_back({"/analytics/top-products",
               Role::Viewer,
               "q_top_products",
               sel("api.analytics_top_products(" + from_or(1, 2, "30 days") + ", " + to_or_now(2) +
                   ", coalesce($3::integer, 10), coalesce($4, 'revenue'))"),
               {from_p("30 days"), to_p(), int_param("limit", 1, 1000, "Default: 10."),
                enum_param("by", {"revenue", "units", "orders"}, "Ranking. Default: revenue.")},
               "Best-selling products"});
  r.push_back({"/analytics/low-stock",
               Role::Viewer,
               "q_low_stock",
               sel("api.inventory_low_stock(" + as_of(1) +
                   ", coalesce($2::integer, 28), coalesce($3::numeric, 14), coalesce($4::integer, "
                   "100))"),
               {as_of_p(),
                int_param("velocity_days", 1, 366,
                          "Days of sales the velocity is measured over. "
                          "Default: 28."),
                {"cover_days",
                 QueryKind::Number,
                 0,
                 3650,
                 {},
                 "Days of cover below which a product "
                 "is low. Default: 14."},
                int_param("limit", 1, 10000, "Default: 100.")},
               "Products under threshold or under cover_days of stock at the recent velocity"});
  r.push_back({"/customers/top",
               Role::Viewer,
               "q_customers_top",
               sel("api.customers_top(" + from_or(1, 2, "30 days") + ", " + to_or_now(2) +
                   ", coalesce($3::integer, 10), coalesce($4, 'revenue'))"),
               {from_p("30 days"), to_p(), int_param("limit", 1, 1000, "Default: 10."),
                enum_param("by", {"revenue", "orders"}, "Ranking. Default: revenue.")},
               "Top customers of a period"});
  r.push_back({"/customers/behavior",
               Role::Viewer,
               "q_customers_behavior",
               sel("api.customers_behavior(" + from_or(1, 2, "30 days") + ", " + to_or_now(2) +
                   ", $3::bigint, coalesce($4::integer, 20))"),
               {from_p("30 days"), to_p(),
                int_param("customer_id", 1, 9007199254740991.0, "One customer only."),
                int_param("limit", 1, 1000, "Default: 20.")},
               "Purchase behaviour per customer (orders, basket, channels, hours)"});
  r.push_back({"/customers/segments",
               Role::Viewer,
               "q_customers_segments",
               sel("api.customers_segments(" + as_of(1) + ")"),
               {as_of_p()},
               "RFM segments with their sizes and value"});
  r.push_back({"/customers/rfm",
               Role::Viewer,
               "q_customers_rfm",
               sel("api.customers_rfm(" + as_of(1) + ", $2, coalesce($3::integer, 100))"),
               {as_of_p(),
                enum_param("segment",
                           {"champions", "loyal", "potential_loyalist", "new", "promising",
                            "at_risk", "cant_lose", "hibernating", "lost"},
                           "Only this segment."),
                int_param("limit", 1, 10000, "Default: 100.")},
               "RFM scores per customer"});
  r.push_back({"/customers/lifetime-value",
               Role::Viewer,
               "q_customers_clv",
               sel("api.customers_lifetime_value(" + as_of(1) +
                   ", coalesce($2::integer, 20), coalesce($3::integer, 12))"),
               {as_of_p(), int_param("limit", 1, 1000, "Default: 20."),
                int_param("horizon_months", 1, 120, "Prediction horizon. Default: 12.")},
               "Customer lifetime value (historical + predicted)"});
  r.push_back({"/fraud/geo",
               Role::Viewer,
               "q_fraud_geo",
               sel("api.fraud_geo(" + from_or(1, 2, "30 days") + ", " + to_or_now(2) +
                   ", coalesce($3::integer, 500), $4)"),
               {from_p("30 days"), to_p(),
                int_param("limit", 0, 5000, "Most suspicious points returned. Default: 500.")},
               "Transactions and suspicious rate per country, suspicious points for the map "
               "(coordinates for analyst and admin tokens only)",
               true});
  r.push_back({"/fraud/rules",
               Role::Analyst,
               "q_fraud_rules",
               sel("api.fraud_rules()"),
               {},
               "The fraud rules' configuration (techmart.rule_config)"});
  // entity risk (docs/entity-risk.md): backtest a shadow configuration, compare the shadows
  r.push_back(
      {"/fraud/backtest",
       Role::Analyst,
       "q_fraud_backtest",
       sel("api.fraud_backtest(" + from_or(1, 2, "30 days") + ", " + to_or_now(2) +
           ", $3, coalesce($4::integer, 10))"),
       {from_p("30 days"), to_p(),
        enum_param("shadow", {},
                   "Name of the shadow configuration to replay next to the live one. "
                   "Default: the live configuration."),
        int_param("top_k", 1, 1000, "Reviewed per day for the top-k figures. Default: 10.")},
       "Backtest: replay of the period with the verdicts known at each moment",
       false,
       true});
  r.push_back({"/fraud/shadow",
               Role::Analyst,
               "q_fraud_shadow",
               sel("api.fraud_shadow()"),
               {},
               "Shadow configurations compared with the live one"});
  return r;
}

bool valid_time(const std::string& s) {
  static const std::regex re(
      "^([0-9]{4})-([0-9]{2})-([0-9]{2})"
      "([T ]([0-9]{2}):([0-9]{2})(:([0-9]{2})(\\.[0-9]{1,6})?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?))?$");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > days[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
  if (m[4].matched) {
    if (std::stoi(m[5]) > 23 || std::stoi(m[6]) > 59) return false;
    if (m[8].matched && std::stoi(m[8]) > 59) return false;
  }
  return true;
}

}  // namespace

const std::vector<QueryRoute>& query_routes() {
  static const std::vector<QueryRoute> routes = build();
  return routes;
}

const char* query_kind_name(QueryKind k) {
  switch (k) {
    case QueryKind::Time:
      return "time";
    case QueryKind::Integer:
      return "integer";
    case QueryKind::Number:
      return "number";
    case QueryKind::Text:
      return "text";
  }
  return "text";
}

std::string check_query_value(const QueryParam& p, const std::string& v) {
  switch (p.kind) {
    case QueryKind::Time:
      if (!valid_time(v)) {
        return "must be a date (YYYY-MM-DD) or a date-time with offset "
               "(e.g. 2026-11-01T00:00:00Z)";
      }
      return "";
    case QueryKind::Integer: {
      const auto n =
          parse_int(v, static_cast<std::int64_t>(p.min), static_cast<std::int64_t>(p.max));
      if (!n) {
        return "must be an integer between " + std::to_string(static_cast<long long>(p.min)) +
               " and " + std::to_string(static_cast<long long>(p.max));
      }
      return "";
    }
    case QueryKind::Number: {
      static const std::regex re("^[0-9]{1,9}(\\.[0-9]{1,6})?$");
      const std::string msg = "must be a number between " +
                              std::to_string(static_cast<long long>(p.min)) + " and " +
                              std::to_string(static_cast<long long>(p.max));
      if (!std::regex_match(v, re)) return msg;
      const double d = std::strtod(v.c_str(), nullptr);
      if (!std::isfinite(d) || d < p.min || d > p.max) return msg;
      return "";
    }
    case QueryKind::Text:
      if (!p.values.empty()) {
        for (const auto& a : p.values)
          if (a == v) return "";
        std::string all;
        for (const auto& a : p.values) all += (all.empty() ? "" : ", ") + a;
        return "must be one of " + all;
      }
      if (v.empty() || v.size() > 100) return "must be 1 to 100 characters";
      return "";
  }
  return "";
}

}  // namespace techmart::api
