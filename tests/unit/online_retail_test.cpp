#include "techmart/core/online_retail.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

using namespace techmart::core::online_retail;

namespace {

// a stand-in for the database: UTC (no daylight saving), days since 2000-01-01 by a civil-date
// formula
std::int64_t fake_uk_time(const LocalTime& t) {
  int y = t.year, m = t.month;
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + t.day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days =
      static_cast<std::int64_t>(era) * 146097 + doe - 730425;  // 2000-03-01 base
  return ((days * 24 + t.hour) * 60 + t.minute) * 60000000LL + t.second * 1000000LL +
         59LL * 86400000000LL;
}

Hooks hooks() {
  Hooks h;
  h.uk_time = fake_uk_time;
  h.upper = [](std::string_view s) {
    std::string u(s);
    // the one non-ASCII rule the tests use: dotless i (U+0131) upper-cases to I
    for (std::size_t p; (p = u.find("\xC4\xB1")) != std::string::npos;) u.replace(p, 2, "I");
    for (char& c : u) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return u;
  };
  return h;
}

Rules rules() {
  Rules r;
  r.countries = {
      {"United Kingdom", "GB"}, {"EIRE", "IE"}, {"Channel Islands", "XC"}, {"France", "FR"}};
  // priority order: the longest pattern first (as import.online_retail() passes them)
  r.specials = {{"BANK CHARGES", "bank_charges"},
                {"GIFT\\_%", "gift_voucher"},
                {"POST", "postage"},
                {"M", "manual"}};
  return r;
}

struct Line {
  std::vector<std::string> f;  // 8 fields, "\x01" = NULL
  RawLine raw() const {
    RawLine r;
    for (int i = 0; i < kFields; ++i) {
      r.null[i] = f[static_cast<std::size_t>(i)] == "\x01";
      if (!r.null[i]) r.field[i] = f[static_cast<std::size_t>(i)];
    }
    return r;
  }
};

Line L(std::string inv, std::string code, std::string descr, std::string qty, std::string date,
       std::string price, std::string cust, std::string country) {
  return Line{{inv, code, descr, qty, date, price, cust, country}};
}

// (the parsed lines point into the input's bytes: they are kept for the whole test program)
Parsed run(std::vector<Line> lines) {
  static std::deque<std::vector<Line>> kept;
  kept.push_back(std::move(lines));
  std::vector<RawLine> raw;
  for (const Line& l : kept.back()) raw.push_back(l.raw());
  return parse(raw, rules(), hooks());
}

const ParsedLine& by_line(const Parsed& p, std::int64_t line) {
  for (const ParsedLine& l : p.lines) {
    if (l.line == line) return l;
  }
  throw std::out_of_range("no such line");
}

}  // namespace

TEST(OnlineRetail, TrimsSpacesOnly) {
  EXPECT_EQ(trim_spaces("  a b  "), "a b");
  EXPECT_EQ(trim_spaces("\ta\t"), "\ta\t");
  EXPECT_EQ(trim_spaces("   "), "");
}

TEST(OnlineRetail, InvoiceNumbers) {
  EXPECT_TRUE(invoice_valid("536365"));
  EXPECT_TRUE(invoice_valid("C536379"));
  EXPECT_TRUE(invoice_valid("A563185"));
  EXPECT_TRUE(invoice_valid("12345678901234567890"));
  EXPECT_FALSE(invoice_valid("123456789012345678901"));
  EXPECT_FALSE(invoice_valid("C"));
  EXPECT_FALSE(invoice_valid(""));
  EXPECT_FALSE(invoice_valid("CC123"));
  EXPECT_FALSE(invoice_valid("c123"));  // (upper-cased before)
  EXPECT_FALSE(invoice_valid("123 "));
}

TEST(OnlineRetail, Quantities) {
  EXPECT_EQ(parse_quantity("6"), 6);
  EXPECT_EQ(parse_quantity(" -12 "), -12);
  EXPECT_EQ(parse_quantity("\t+7\r"), 7);
  EXPECT_EQ(parse_quantity("999999999"), 999999999);
  EXPECT_FALSE(parse_quantity("1000000000"));
  EXPECT_FALSE(parse_quantity("1.0"));
  EXPECT_FALSE(parse_quantity(""));
  EXPECT_FALSE(parse_quantity("-"));
  EXPECT_FALSE(parse_quantity("1 2"));
  EXPECT_FALSE(parse_quantity("x"));
}

TEST(OnlineRetail, PricesKeepTheirScale) {
  const auto p = parse_price("2.55");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->units, 255);
  EXPECT_EQ(p->scale, 2);
  EXPECT_EQ(parse_price("1.250")->units, 1250);
  EXPECT_EQ(parse_price("1.250")->scale, 3);
  EXPECT_EQ(parse_price("3.")->units, 3);
  EXPECT_EQ(parse_price("3.")->scale, 0);
  EXPECT_EQ(parse_price(".5")->units, 5);
  EXPECT_EQ(parse_price(".5")->scale, 1);
  EXPECT_EQ(parse_price(" -11062.06 ")->units, -1106206);
  EXPECT_EQ(parse_price("+0")->units, 0);
  EXPECT_EQ(parse_price("99999999999.999")->units, 99999999999999LL);
  EXPECT_FALSE(parse_price("1.2345"));
  EXPECT_FALSE(parse_price("123456789012"));
  EXPECT_FALSE(parse_price("."));
  EXPECT_FALSE(parse_price(""));
  EXPECT_FALSE(parse_price("1,5"));
  EXPECT_FALSE(parse_price("1.5.1"));
  EXPECT_FALSE(parse_price("1e3"));
}

TEST(OnlineRetail, InvoiceDates) {
  const auto t = parse_invoice_date(" 2010-12-01 08:26:00 ");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->year, 2010);
  EXPECT_EQ(t->month, 12);
  EXPECT_EQ(t->day, 1);
  EXPECT_EQ(t->hour, 8);
  EXPECT_EQ(t->minute, 26);
  EXPECT_EQ(t->second, 0);
  EXPECT_EQ(parse_invoice_date("2011-01-04T10:00")->second, 0);
  EXPECT_EQ(parse_invoice_date("2011-01-04 10:00:59")->second, 59);
  EXPECT_TRUE(parse_invoice_date("2012-02-29 00:00"));
  EXPECT_TRUE(parse_invoice_date("2000-02-29 00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-02-29 00:00"));
  EXPECT_FALSE(parse_invoice_date("1900-02-29 00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-04-31 00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-13-01 00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-00-01 00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-01-00 00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-01-01 24:00"));
  EXPECT_FALSE(parse_invoice_date("2011-01-01 23:60"));
  EXPECT_FALSE(parse_invoice_date("2011-01-01 23:59:60"));
  EXPECT_FALSE(parse_invoice_date("1899-12-31 23:59"));
  EXPECT_FALSE(parse_invoice_date("3000-01-01 00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-1-01 00:00"));
  EXPECT_FALSE(parse_invoice_date("01/12/2010 08:26"));
  EXPECT_FALSE(parse_invoice_date("2011-01-01\t00:00"));
  EXPECT_FALSE(parse_invoice_date("2011-01-01 00:00:0"));
  EXPECT_FALSE(parse_invoice_date(""));
}

TEST(OnlineRetail, CustomerIds) {
  EXPECT_EQ(*parse_customer_id("17850.0").id, 17850);
  EXPECT_EQ(*parse_customer_id(" 17850 ").id, 17850);
  EXPECT_EQ(*parse_customer_id("17850.").id, 17850);
  EXPECT_EQ(*parse_customer_id("\t12.000\t").id, 12);
  EXPECT_TRUE(parse_customer_id("").valid);
  EXPECT_FALSE(parse_customer_id("").id);
  EXPECT_TRUE(parse_customer_id("   ").valid);
  EXPECT_FALSE(parse_customer_id("17850.5").valid);
  EXPECT_FALSE(parse_customer_id("1234567890123456").valid);
  EXPECT_FALSE(parse_customer_id("-5").valid);
  EXPECT_FALSE(parse_customer_id("\t").valid);  // not blank after btrim, not digits
  EXPECT_FALSE(parse_customer_id("x1").valid);
}

TEST(OnlineRetail, Like) {
  EXPECT_TRUE(like("POST", "POST"));
  EXPECT_FALSE(like("POSTAGE", "POST"));
  EXPECT_TRUE(like("GIFT_0001_10", "GIFT\\_%"));
  EXPECT_FALSE(like("GIFTX0001", "GIFT\\_%"));
  EXPECT_TRUE(like("AB", "_B"));
  EXPECT_TRUE(
      like("\xC3\x89"
           "B",
           "_B"));  // one character of two bytes
  EXPECT_TRUE(like("ABC", "%C"));
  EXPECT_TRUE(like("", "%"));
  EXPECT_FALSE(like("", "_"));
  EXPECT_TRUE(like("A%B", "A\\%B"));
  EXPECT_FALSE(like("AxB", "A\\%B"));
  EXPECT_THROW(like("A", "A\\"), std::invalid_argument);
}

TEST(OnlineRetail, ClassifiesNumbersAndSorts) {
  const Parsed p = run({
      L("536365", "85123A", "WHITE HANGING HEART", "6", "2010-12-01 08:26:00", "2.55", "17850.0",
        "United Kingdom"),
      L("C536379", "D", "Discount", "-1", "2010-12-01 09:41:00", "27.50", "14527.0",
        "United Kingdom"),
      L("536365", "71053", " WHITE METAL LANTERN ", "6", "2010-12-01 08:26:00", "3.39", "17850.0",
        "United Kingdom"),
      L("C536383", "35004C", "SET OF 3 COLOURED", "-1", "2010-12-01 09:49:00", "4.65", "15311.0",
        "United Kingdom"),
      L("536370", "POST", "POSTAGE", "3", "2010-12-01 08:45:00", "18", "12583.0", "France"),
      L("536414", "22139", "", "56", "2010-12-01 11:52:00", "0", "", "United Kingdom"),
      L("536999", "gift_0001_20", "voucher", "1", "2010-12-01 07:00:00", "16.67", "", "EIRE"),
      L("537000", "85123A", "x", "0", "2010-12-01 07:30:00", "1", "", "EIRE"),
      L("C537001", "85123A", "x", "2", "2010-12-01 07:31:00", "1", "", "EIRE"),
      L("537002", "85123A", "x", "-2", "2010-12-01 07:32:00", "1", "", "EIRE"),
      L("537003", "85123A", "x", "1", "2010-12-01 07:33:00", "-1", "", "EIRE"),
      L(" c536365 ", "85123A", "\x01", "1", "2010-12-01 07:34:00", "1", "", "Channel Islands"),
  });
  ASSERT_EQ(p.lines.size(), 12u);
  EXPECT_EQ(p.invalid, 0u);
  EXPECT_EQ(by_line(p, 2).outcome, "sale");
  EXPECT_EQ(by_line(p, 2).email, "c17850@online-retail.example");
  EXPECT_EQ(by_line(p, 2).cc, "GB");
  EXPECT_EQ(by_line(p, 2).line_no, 1);
  EXPECT_EQ(by_line(p, 4).line_no, 2);  // the second line of 536365
  EXPECT_EQ(by_line(p, 4).descr, "WHITE METAL LANTERN");
  EXPECT_EQ(by_line(p, 3).outcome, "refund");  // D is not among these rules' special codes
  EXPECT_EQ(by_line(p, 5).outcome, "refund");
  EXPECT_EQ(by_line(p, 5).qty, -1);
  EXPECT_EQ(by_line(p, 6).outcome, "non_product:postage");
  EXPECT_EQ(by_line(p, 6).cc, "FR");
  EXPECT_EQ(by_line(p, 6).price.units, 18);
  EXPECT_EQ(by_line(p, 7).outcome, "zero_price");
  EXPECT_FALSE(by_line(p, 7).has_descr);
  EXPECT_FALSE(by_line(p, 7).has_cust);
  EXPECT_EQ(by_line(p, 7).email, "guest-gb@online-retail.example");
  EXPECT_EQ(by_line(p, 8).outcome, "non_product:gift_voucher");  // upper(sku) LIKE 'GIFT\_%'
  EXPECT_EQ(by_line(p, 8).sku, "gift_0001_20");                  // the SKU as written
  EXPECT_EQ(by_line(p, 8).email, "guest-ie@online-retail.example");
  EXPECT_EQ(by_line(p, 9).outcome, "zero_quantity");
  EXPECT_EQ(by_line(p, 10).outcome, "cancellation_with_positive_quantity");
  EXPECT_EQ(by_line(p, 11).outcome, "negative_quantity");
  EXPECT_EQ(by_line(p, 12).outcome, "negative_price");
  EXPECT_EQ(by_line(p, 13).inv, "C536365");  // upper(btrim())
  EXPECT_EQ(by_line(p, 13).outcome, "cancellation_with_positive_quantity");
  EXPECT_EQ(by_line(p, 13).cc, "XC");
  EXPECT_FALSE(by_line(p, 13).has_descr);
  // sorted by (time, line)
  ASSERT_EQ(p.order.size(), p.lines.size());
  for (std::size_t i = 1; i < p.order.size(); ++i) {
    const ParsedLine& a = p.lines[p.order[i - 1]];
    const ParsedLine& b = p.lines[p.order[i]];
    EXPECT_TRUE(a.ts < b.ts || (a.ts == b.ts && a.line < b.line)) << a.line << " before " << b.line;
  }
  EXPECT_EQ(p.lines[p.order.front()].line, 8);
  EXPECT_EQ(by_line(p, 2).ts, fake_uk_time(LocalTime{2010, 12, 1, 8, 26, 0}));
}

TEST(OnlineRetail, InvalidLinesLastAndNothingGuessed) {
  const Parsed p = run({
      L("536365", "85123A", "ok", "6", "2010-12-01 08:26:00", "2.55", "17850.0", "United Kingdom"),
      L("536366", "85123A", "bad date", "6", "2011-02-29 08:26:00", "2.55", "17850.0",
        "United Kingdom"),
      L("536367", " ", "no sku", "6", "2010-12-01 08:26:00", "2.55", "17850.0", "United Kingdom"),
      L("53636x", "85123A", "bad invoice", "6", "2010-12-01 08:26:00", "2.55", "17850.0",
        "United Kingdom"),
      L("536368", "85123A", "bad qty", "6.5", "2010-12-01 08:26:00", "2.55", "17850.0",
        "United Kingdom"),
      L("536369", "85123A", "bad price", "6", "2010-12-01 08:26:00", "2.5555", "17850.0",
        "United Kingdom"),
      L("536370", "85123A", "bad customer", "6", "2010-12-01 08:26:00", "2.55", "17850.5",
        "United Kingdom"),
      L("536371", "85123A", "unknown country", "6", "2010-12-01 08:26:00", "2.55", "", "Atlantis"),
      L("536372", "85123A", "no country", "6", "2010-12-01 08:26:00", "2.55", "", "\x01"),
      L("\x01", "\x01", "\x01", "\x01", "\x01", "\x01", "\x01", "\x01"),
  });
  ASSERT_EQ(p.lines.size(), 10u);
  EXPECT_EQ(p.invalid, 9u);
  EXPECT_EQ(by_line(p, 2).outcome, "sale");
  for (std::int64_t l = 3; l <= 11; ++l)
    EXPECT_EQ(by_line(p, l).outcome, "invalid") << "line " << l;
  EXPECT_FALSE(by_line(p, 3).has_ts);
  EXPECT_FALSE(by_line(p, 6).has_qty);
  EXPECT_FALSE(by_line(p, 7).has_price);
  EXPECT_FALSE(by_line(p, 8).has_cust);
  EXPECT_EQ(by_line(p, 8).email, "guest-gb@online-retail.example");  // as the SQL builds it
  EXPECT_FALSE(by_line(p, 9).has_cc);
  EXPECT_FALSE(by_line(p, 9).has_email);
  // sorted by (time, line): lines without a time (NULL) last
  EXPECT_EQ(p.lines[p.order.front()].line, 2);
  EXPECT_FALSE(p.lines[p.order.back()].has_ts);
  EXPECT_EQ(p.lines[p.order.back()].line, 11);  // the lines without a time last, in line order
  EXPECT_EQ(p.lines[p.order[p.order.size() - 2]].line, 3);
}

TEST(OnlineRetail, NonAsciiGoesThroughUpper) {
  const Parsed p = run({
      L("\xC4\xB1"
        "536365",
        "p\xC4\xB1ost", "x", "1", "2010-12-01 08:26:00", "1", "", "EIRE"),
  });
  // upper() of the database turns the dotless i into I: a valid invoice, and not POST either
  EXPECT_EQ(p.lines[0].inv, "I536365");
  EXPECT_EQ(p.lines[0].outcome, "sale");
}

TEST(OnlineRetail, LineNumbersPerInvoiceInFileOrder) {
  const Parsed p = run({
      L("1", "A", "", "1", "2010-12-01 10:00", "1", "", "EIRE"),
      L("2", "A", "", "1", "2010-12-01 09:00", "1", "", "EIRE"),
      L("1", "A", "", "1", "2010-12-01 08:00", "1", "", "EIRE"),  // duplicates are separate lines
      L(" 1", "A", "", "1", "2010-12-01 10:00", "1", "", "EIRE"),
  });
  EXPECT_EQ(by_line(p, 2).line_no, 1);
  EXPECT_EQ(by_line(p, 3).line_no, 1);
  EXPECT_EQ(by_line(p, 4).line_no, 2);
  EXPECT_EQ(by_line(p, 5).line_no, 3);
  EXPECT_EQ(p.lines[p.order.front()].line, 4);
  EXPECT_EQ(p.lines[p.order.back()].line, 5);  // same time as line 2: after it
}
