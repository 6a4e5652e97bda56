// Static files (the dashboard) from TECHMART_STATIC_DIR, served at /.
#pragma once

#include <string>

#include "http.h"

namespace techmart::api {

class StaticFiles {
 public:
  // root must exist; it is resolved to a canonical path once.
  explicit StaticFiles(const std::string& root);

  // GET /path -> the file (/ and directories -> index.html). Rejects "..", hidden segments and
  // anything resolving outside the root with 404. Pistache's serveFile is not used: it knows few
  // MIME types, does not sanitise paths and can raise SIGPIPE.
  Response serve(const RequestContext& ctx) const;
  // The same for a path relative to the root ("/index.html").
  Response serve_path(const std::string& path) const;

  static std::string mime_type(const std::string& path);

 private:
  std::string root_;
};

}  // namespace techmart::api
