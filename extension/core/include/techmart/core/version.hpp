#pragma once

namespace techmart::core {

// Version of the extension's SQL interface (matches default_version in techmart.control).
#ifndef TECHMART_SQL_VERSION
#error "TECHMART_SQL_VERSION is set by CMake (TECHMART_VERSIONS in the top-level CMakeLists.txt)"
#endif
inline constexpr const char* kVersion = TECHMART_SQL_VERSION;

}  // namespace techmart::core
