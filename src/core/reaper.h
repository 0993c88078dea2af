#ifndef ROLLCALL_CORE_REAPER_H_
#define ROLLCALL_CORE_REAPER_H_

#include <cstdint>

#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace rollcall {

// Closes the timed-out visits and ends the idle implicit sessions that no report touches
// (reports apply the same rules themselves, core/presence_rules.h). A visit it closes leaves at
// the participant's last-seen time and a session it ends ends at its idle due time, whenever
// the pass runs, so how often it runs changes only how soon "inside now" catches up.
//
// Thread-safe. Passes may overlap, in one process or in several sharing a store: each close
// re-checks the row inside its own write.
class Reaper {
 public:
  // REQUIRES: store and clock outlive the reaper; batch > 0.
  Reaper(Store* store, Clock* clock, int64_t batch = 500)
      : store_(*store), clock_(*clock), batch_(batch) {}

  struct Pass {
    int64_t members = 0;   // due members looked at
    int64_t sessions = 0;  // idle sessions looked at
  };

  // One pass at the clock's now: reads the due members and idle sessions (index scans, at most
  // `batch` each), applies each through Store::Write and waits for the commits; repeats while
  // a batch came back full, at most kMaxRounds times (the next pass goes on). Fails with the
  // store's status.
  StatusOr<Pass> RunOnce();

  static constexpr int kMaxRounds = 20;

 private:
  Store& store_;
  Clock& clock_;
  const int64_t batch_;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_REAPER_H_
