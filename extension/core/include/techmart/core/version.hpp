#pragma once

namespace techmart::core {

// Version of the extension's SQL interface (matches default_version in techmart.control).
inline constexpr const char* kVersion = "0.1";

}  // namespace techmart::core
