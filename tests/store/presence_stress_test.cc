// Races of live presence: joins, leaves, heartbeats and publishes of many participants sent
// concurrently, repeated and out of order, while the clock runs and the reaper times visits
// out and ends idle sessions. The invariants of every session are checked afterwards.
#include <atomic>
#include <random>
#include <thread>

#include "presence_fixture.h"

namespace rollcall::presence_test {
namespace {

enum class Op { kJoin, kLeave, kHeartbeat, kPublish };

struct Sent {
  Op op;
  int64_t seq;
};

class PresenceStress : public PresenceFixture {
 protected:
  // Sends one report of `c` without waiting; the future completes after the commit.
  std::future<bool> Send(const TokenClaims& c, Op op, std::optional<int64_t> seq) {
    auto done = std::make_shared<std::promise<bool>>();
    std::future<bool> f = done->get_future();
    auto cb = [done](StatusOr<PresenceView> r) {
      // kConflict: publish while not connected; kParticipantNotFound: before any join.
      const bool expected = r.ok() || r.status().code() == Code::kConflict ||
                            r.status().code() == Code::kParticipantNotFound;
      done->set_value(expected);
    };
    switch (op) {
      case Op::kJoin: {
        JoinRequest req;
        req.seq = seq;
        stages_->Join(tenant_.id, c, req, cb);
        break;
      }
      case Op::kLeave:
        stages_->Leave(tenant_.id, c, cb, seq);
        break;
      case Op::kHeartbeat:
        stages_->Heartbeat(tenant_.id, c, seq, cb);
        break;
      case Op::kPublish:
        stages_->Publish(tenant_.id, c, true, cb, seq);
        break;
    }
    return f;
  }

  std::vector<std::string> AllSessions(const TestStage& st) {
    std::vector<std::string> out;
    std::optional<RowId> before;
    for (;;) {
      StatusOr<KeysetPage<Session>> page = stages_->ListStageSessions(tenant_, st.arn, before, 100);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) return out;
      for (const Session& s : page->items) out.push_back(s.stage_session_id);
      if (!page->more) return out;
      before = page->items.back().id;
    }
  }

  // Checks every session of the stage; returns how many events of each reason they hold.
  std::map<std::string, int> CheckAllSessions(const TestStage& st) {
    int active = 0;
    std::map<std::string, int> reasons;
    for (const std::string& sid : AllSessions(st)) {
      CheckInvariants(st, sid);
      if (StageSession(st, sid).active()) ++active;
      for (const ParticipantSummary& p : Participants(st, sid)) {
        for (const Event& e : Events(st, sid, p.ivs_participant_id)) ++reasons[e.reason];
      }
    }
    EXPECT_LE(active, 1);
    reasons["sessions"] = static_cast<int>(AllSessions(st).size());
    return reasons;
  }
};

TEST_P(PresenceStress, InterleavedReportsTimeoutsAndTheReaperKeepTheInvariants) {
  // Short windows so that timeouts, reconnections and idle ends all happen many times.
  TestStage st = MakeStage(PresencePatch{3, 2, 4, std::nullopt});
  constexpr int kThreads = 4, kPerThread = 3, kRounds = 40, kPhases = 4;
  std::vector<TokenClaims> people;
  for (int i = 0; i < kThreads * kPerThread; ++i)
    people.push_back(Token(st, std::string("u") + std::to_string(i)));
  std::vector<std::atomic<int64_t>> seqs(people.size());

  std::atomic<bool> running{true};
  std::thread ticker([&] {
    std::mt19937 rng(7);
    while (running) {
      clock_.Advance(std::uniform_int_distribution<int>(0, 400)(rng));
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  std::atomic<int64_t> reaped{0};
  std::thread reaper([&] {
    while (running) {
      StatusOr<Reaper::Pass> pass = reaper_->RunOnce();
      ASSERT_TRUE(pass.ok()) << pass.status().message();
      reaped += pass->members + pass->sessions;
    }
  });
  std::atomic<int> unexpected{0};
  // Phases of concurrent traffic; between them everyone leaves and the stage stays empty past
  // its idle window, so its session ends and the next phase starts a new one.
  for (int phase = 0; phase < kPhases; ++phase) {
    std::vector<std::thread> clients;
    for (int t = 0; t < kThreads; ++t) {
      clients.emplace_back([&, t] {
        std::mt19937 rng(100 * phase + t);
        for (int round = 0; round < kRounds; ++round) {
          const size_t who = t * kPerThread + rng() % kPerThread;
          // A burst of 1..4 reports with increasing seq (some without seq), sent at once so
          // the store sees them in any order, some of them twice.
          std::vector<std::pair<Op, std::optional<int64_t>>> burst;
          const int n = 1 + rng() % 4;
          for (int i = 0; i < n; ++i) {
            const Op op = static_cast<Op>(rng() % 4);
            std::optional<int64_t> seq;
            if (rng() % 5 != 0) seq = ++seqs[who];
            burst.emplace_back(op, seq);
            if (rng() % 4 == 0) burst.emplace_back(op, seq);
          }
          std::shuffle(burst.begin(), burst.end(), rng);
          std::vector<std::future<bool>> pending;
          for (const auto& [op, seq] : burst) pending.push_back(Send(people[who], op, seq));
          for (auto& f : pending) {
            if (!f.get()) ++unexpected;
          }
        }
      });
    }
    for (std::thread& c : clients) c.join();
    for (size_t i = 0; i < people.size(); ++i) {
      if (!Send(people[i], Op::kLeave, ++seqs[i]).get()) ++unexpected;
    }
    clock_.Advance(5 * kSecond);
  }
  running = false;
  ticker.join();
  reaper.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(reaped.load(), 0);
  // The run went through every path: timeouts, reconnections, idle ends.
  std::map<std::string, int> seen = CheckAllSessions(st);
  EXPECT_GT(seen[kReasonTimeout], 0);
  EXPECT_GT(seen[kReasonReconnected], 0);
  EXPECT_GT(seen["sessions"], 1);

  // Whatever happened, each participant can still come in and go out cleanly.
  for (size_t i = 0; i < people.size(); ++i) {
    StatusOr<PresenceView> in = Join(people[i], ++seqs[i]);
    ASSERT_TRUE(in.ok()) << in.status().message();
    EXPECT_TRUE(in->connected);
  }
  const std::string sid = ActiveSession(st);
  EXPECT_EQ(StageSession(st, sid).participant_count, static_cast<int64_t>(people.size()));
  for (size_t i = 0; i < people.size(); ++i) EXPECT_FALSE(Leave(people[i], ++seqs[i])->connected);
  EXPECT_EQ(StageSession(st, sid).participant_count, 0);
  CheckAllSessions(st);
}

TEST_P(PresenceStress, TheReportWithTheHighestSeqDecides) {
  TestStage st = MakeStage();
  constexpr int kPeople = 24, kReports = 8, kThreads = 4;
  std::mt19937 rng(42);
  std::vector<TokenClaims> people;
  std::vector<bool> last_is_join;
  struct Item {
    size_t who;
    Op op;
    int64_t seq;
  };
  std::vector<Item> items;
  for (int i = 0; i < kPeople; ++i) {
    people.push_back(Token(st, std::string("p") + std::to_string(i)));
    Op last = Op::kJoin;
    for (int64_t seq = 1; seq <= kReports; ++seq) {
      last = rng() % 2 ? Op::kJoin : Op::kLeave;
      items.push_back({static_cast<size_t>(i), last, seq});
      if (rng() % 3 == 0) items.push_back({static_cast<size_t>(i), last, seq});  // a retry
    }
    last_is_join.push_back(last == Op::kJoin);
  }
  // Everyone joins once first so that the stage's session exists and no report races a
  // session start; the frozen clock keeps timeouts and idle ends out of this test.
  for (const TokenClaims& c : people) ASSERT_TRUE(Join(c, 0).ok());
  std::shuffle(items.begin(), items.end(), rng);
  std::atomic<size_t> next{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<std::future<bool>> pending;
      for (size_t i = next++; i < items.size(); i = next++) {
        pending.push_back(Send(people[items[i].who], items[i].op, items[i].seq));
      }
      for (auto& f : pending) {
        if (!f.get()) ++unexpected;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  const std::string sid = ActiveSession(st);
  int64_t inside = 0;
  for (int i = 0; i < kPeople; ++i) {
    EXPECT_EQ(Get(st, sid, people[i].participant_id).connected(), last_is_join[i]) << i;
    if (last_is_join[i]) ++inside;
  }
  EXPECT_EQ(StageSession(st, sid).participant_count, inside);
  CheckInvariants(st, sid);
}

INSTANTIATE_TEST_SUITE_P(Backends, PresenceStress, ::testing::ValuesIn(BackendUrls()), BackendName);

}  // namespace
}  // namespace rollcall::presence_test
