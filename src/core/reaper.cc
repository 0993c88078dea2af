#include "core/reaper.h"

#include <future>
#include <memory>
#include <vector>

#include "core/presence_rules.h"

namespace rollcall {
namespace {

// Runs fn(tx, item, now) as one write per item and waits for all of them. Returns the first
// failure.
template <typename T, typename F>
Status ApplyEach(Store& store, Clock& clock, const std::vector<T>& items, F fn) {
  std::vector<std::future<Status>> done;
  done.reserve(items.size());
  for (const T& item : items) {
    auto p = std::make_shared<std::promise<Status>>();
    done.push_back(p->get_future());
    store.Write(
        [&clock, item, fn](Tx& tx) {
          fn(tx, item, clock.Now());
          return Status::Ok();
        },
        [p](Status s) { p->set_value(std::move(s)); });
  }
  Status first = Status::Ok();
  for (auto& f : done) {
    Status s = f.get();
    if (first.ok() && !s.ok()) first = std::move(s);
  }
  return first;
}

}  // namespace

StatusOr<Reaper::Pass> Reaper::RunOnce() {
  Pass pass;
  for (int round = 0; round < kMaxRounds; ++round) {
    const Millis now = clock_.Now();
    std::vector<DueMember> members;
    std::vector<DueSession> sessions;
    Status s = store_.Read([&](Tx& tx) {
      members = tx.ListDueMembers(now, batch_);
      sessions = tx.ListIdleSessions(now, batch_);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    s = ApplyEach(store_, clock_, members, rules::ReapMember);
    if (!s.ok()) return s;
    s = ApplyEach(store_, clock_, sessions, rules::ReapSession);
    if (!s.ok()) return s;
    pass.members += static_cast<int64_t>(members.size());
    pass.sessions += static_cast<int64_t>(sessions.size());
    if (static_cast<int64_t>(members.size()) < batch_ &&
        static_cast<int64_t>(sessions.size()) < batch_) {
      break;
    }
  }
  return pass;
}

}  // namespace rollcall
