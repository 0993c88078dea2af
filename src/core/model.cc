#include "core/model.h"

namespace rollcall {

std::string_view AppTypeName(AppType t) {
  switch (t) {
    case AppType::kStreaming:
      return "STREAMING";
    case AppType::kChat:
      return "CHAT";
    case AppType::kLive:
      return "LIVE";
  }
  return "LIVE";
}

std::optional<AppType> ParseAppType(std::string_view s) {
  if (s == "STREAMING") return AppType::kStreaming;
  if (s == "CHAT") return AppType::kChat;
  if (s == "LIVE") return AppType::kLive;
  return std::nullopt;
}

std::string_view AppStatusName(AppStatus s) {
  switch (s) {
    case AppStatus::kActive:
      return "N";
    case AppStatus::kInactive:
      return "P";
    case AppStatus::kDeleted:
      return "Y";
  }
  return "N";
}

std::optional<AppStatus> ParseAppStatus(std::string_view s) {
  if (s == "N") return AppStatus::kActive;
  if (s == "P") return AppStatus::kInactive;
  if (s == "Y") return AppStatus::kDeleted;
  return std::nullopt;
}

}  // namespace rollcall
