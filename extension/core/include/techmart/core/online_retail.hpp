#pragma once
// Parsing, validation, numbering and classification of the staged lines of an Online Retail file
// (docs/import.md, "Validation" and "Lines set aside"; migrations: import.online_retail(), change
// import_online_retail_c). The same rules as the SQL of import.uk_time() and the view
// import.online_retail_parsed (which still builds the error messages of a refused file), done in
// one pass over the lines instead of three DISTINCT sorts, their joins and two window sorts:
//
//   InvoiceNo    inv = upper(btrim(raw)), valid when it matches ^[A-Z]?\d{1,20}$
//   StockCode    sku = btrim(raw), valid when not empty
//   Description  descr = nullif(btrim(raw), ''), anything
//   Quantity     ^\s*[+-]?\d{1,9}\s*$, an int
//   InvoiceDate  btrim(raw) ~ ^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$, a real calendar date,
//                year 1900..2999, hour < 24, minute and second < 60; UK local time (the hook
//                uk_time turns it into a timestamptz)
//   UnitPrice    ^\s*[+-]?(\d{1,11}(\.\d{0,3})?|\.\d{1,3})\s*$, a numeric keeping its scale
//   CustomerID   empty (after btrim), or ^\s*\d{1,15}(\.0*)?\s*$
//   Country      btrim(raw) is a name of the country table (not empty)
//
// btrim removes spaces only; \s is [ \t\n\v\f\r]; a NULL field reads as ''. Classification of a
// valid line, first match: non_product:<reason> (upper(sku) LIKE a special pattern, the patterns
// given in priority order), negative_price, zero_price, zero_quantity, refund (a C... invoice with
// a negative quantity), cancellation_with_positive_quantity, negative_quantity, sale. Lines are
// numbered in file order (the header is line 1), line_no = position of the line within its invoice
// (by inv, in file order), and returned sorted by (time, line), invalid lines (no time) last.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace techmart::core::online_retail {

// the eight columns of the file, in order
enum Field : int {
  kInvoiceNo,
  kStockCode,
  kDescription,
  kQuantity,
  kInvoiceDate,
  kUnitPrice,
  kCustomerId,
  kCountry,
  kFields
};

// btrim(s): leading and trailing spaces (' ' only)
std::string_view trim_spaces(std::string_view s) noexcept;
bool is_ascii(std::string_view s) noexcept;
// InvoiceNo after upper(btrim()): ^[A-Z]?\d{1,20}$
bool invoice_valid(std::string_view inv) noexcept;
std::optional<std::int32_t> parse_quantity(std::string_view raw) noexcept;

// value = units / 10^scale, scale = the number of digits written after the point (0..3)
struct Price {
  std::int64_t units = 0;
  int scale = 0;
};
std::optional<Price> parse_price(std::string_view raw) noexcept;

struct LocalTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};
std::optional<LocalTime> parse_invoice_date(std::string_view raw) noexcept;

// CustomerID: nullopt with valid = true for an empty field (a guest line)
struct Customer {
  bool valid = false;
  std::optional<std::int64_t> id;
};
Customer parse_customer_id(std::string_view raw) noexcept;

// SQL LIKE (deterministic collation): '%' any run, '_' one UTF-8 character, '\' escapes the next
// character. Throws std::invalid_argument for a pattern ending in the escape character (as
// PostgreSQL does).
bool like(std::string_view s, std::string_view pattern);

struct Rules {
  std::vector<std::pair<std::string, std::string>> countries;  // name, ISO code
  std::vector<std::pair<std::string, std::string>>
      specials;  // LIKE pattern, reason; priority order
};

// What only the database knows, supplied by the caller (the glue calls PostgreSQL).
struct Hooks {
  // UK local time -> timestamptz (microseconds since 2000-01-01 00:00 UTC)
  std::function<std::int64_t(const LocalTime&)> uk_time;
  // upper() of a text with non-ASCII characters (ASCII text is upper-cased here)
  std::function<std::string(std::string_view)> upper;
};

// One staged record: its eight fields as stored (null: SQL NULL). The caller keeps the bytes alive.
struct RawLine {
  std::string_view field[kFields];
  bool null[kFields] = {};
};

struct ParsedLine {
  std::int64_t line = 0;  // line in the file (header = 1)
  std::string_view inv;   // upper(btrim(InvoiceNo))
  std::int32_t line_no = 0;
  std::string_view sku;
  bool has_descr = false;
  std::string_view descr;
  bool has_qty = false;
  std::int32_t qty = 0;
  bool has_ts = false;
  std::int64_t ts = 0;
  bool has_price = false;
  Price price;
  bool has_cust = false;
  std::int64_t cust = 0;
  bool has_cc = false;
  std::string_view cc;
  bool has_email = false;
  std::string_view email;    // c<id>@online-retail.example or guest-<cc>@online-retail.example
  std::string_view outcome;  // invalid, non_product:<reason>, ..., sale
};

// The parsed lines and the storage their views point into (besides the input's bytes).
class Parsed {
 public:
  std::vector<ParsedLine> lines;     // in input (= line) order
  std::vector<std::uint32_t> order;  // indexes into lines sorted by (ts, line), invalid lines last
  std::size_t invalid = 0;

  Parsed();
  ~Parsed();
  Parsed(Parsed&&) noexcept;
  Parsed& operator=(Parsed&&) noexcept;
  struct Storage;
  std::unique_ptr<Storage> storage;
};

Parsed parse(const std::vector<RawLine>& raw, const Rules& rules, const Hooks& hooks);

}  // namespace techmart::core::online_retail
