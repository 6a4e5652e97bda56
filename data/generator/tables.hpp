// Static reference data of techmart-gen: categories and their vocabulary, countries, cities
// (real approximate coordinates and UTC offsets), person and company names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace techmart::gen {

enum Region : uint8_t {
  kEurope,
  kEastEurope,
  kNorthAmerica,
  kLatinAmerica,
  kOceania,
  kAsia,
  kMiddleEast,
  kAfrica
};

struct CountryInfo {
  const char* code;  // ISO 3166-1 alpha-2
  Region region;
  double customer_weight;  // share of customers (0: never a home country)
  double supplier_weight;  // share of suppliers
  int name_group;          // index into name_groups()
  uint8_t ip_octet[2];     // plausible first octets of public IPv4 addresses there
  const char* company_suffix;
};

struct CityInfo {
  const char* country;
  const char* name;
  double lat, lon;
  int utc_offset;  // hours, standard time, rounded
};

struct CategoryInfo {
  const char* name;
  const char* prefix;  // SKU prefix
  const char* description;
  double median_price, sigma, weight;
  bool model_numbers;  // names get a model suffix ("X2", "S7")
  std::vector<std::string_view> nouns;
  std::vector<std::string_view> accessories;  // cheap add-ons (< 5)
  std::vector<std::string_view> brands;
  std::vector<std::string_view> blurbs;  // description fragments
};

struct NameGroup {
  std::vector<std::string_view> first;
  std::vector<std::string_view> last;
};

struct Adjective {
  const char* word;
  double price_factor;
};

const std::vector<CategoryInfo>& categories();
const std::vector<CountryInfo>& countries();
const std::vector<CityInfo>& cities();
const std::vector<NameGroup>& name_groups();
const std::vector<Adjective>& adjectives();
const std::vector<std::string_view>& company_words_a();
const std::vector<std::string_view>& company_words_b();

int country_index(std::string_view code);  // -1 when unknown

}  // namespace techmart::gen
