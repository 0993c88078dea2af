#ifndef ROLLCALL_CORE_TX_CALLS_H_
#define ROLLCALL_CORE_TX_CALLS_H_

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "core/status.h"
#include "store/store.h"

namespace rollcall {

// Callbacks of write operations run once, after the commit, on a store thread; they must
// not block.
template <typename T>
using Callback = std::function<void(StatusOr<T>)>;

// Runs fn(tx, T* out-optional) as a write and hands *out to cb after the commit, or the
// failure. fn returns non-OK to roll back its own changes.
template <typename T, typename F>
void WriteWith(Store& store, F fn, Callback<T> cb) {
  auto result = std::make_shared<std::optional<T>>();
  store.Write([fn = std::move(fn), result](Tx& tx) -> Status { return fn(tx, result.get()); },
              [result, cb = std::move(cb)](Status s) {
                if (!s.ok()) {
                  cb(std::move(s));
                } else {
                  cb(std::move(**result));
                }
              });
}

// Runs fn(tx, std::optional<T>* out) in a read snapshot and returns *out or the failure.
template <typename T, typename F>
StatusOr<T> ReadWith(Store& store, F fn) {
  std::optional<T> out;
  Status s = store.Read([&](Tx& tx) { return fn(tx, &out); });
  if (!s.ok()) return s;
  return std::move(*out);
}

}  // namespace rollcall

#endif  // ROLLCALL_CORE_TX_CALLS_H_
