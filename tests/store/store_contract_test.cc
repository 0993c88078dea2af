// The contract every Store backend must keep, run over each backend through the domain
// Service (which is how the server uses a store). Backends: SQLite in a temp file, and
// PostgreSQL when ROLLCALL_TEST_PG_URL names a database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "core/ids.h"
#include "core/service.h"
#include "store/store.h"
#include "backends.h"

namespace rollcall {
namespace {

constexpr Millis kT0 = 1795304540000;  // 2026-11-21T23:42:20Z

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = ResolveBackendUrl(GetParam(), "rollcall-contract", &dir_);
    Open();
    tenant_ = MakeTenant();
    app_ = MakeApp(tenant_);
  }

  void TearDown() override {
    service_.reset();
    if (store_) store_->Close();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Open() {
    StatusOr<std::unique_ptr<Store>> s = OpenStore(url_, StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s.value());
    service_ = std::make_unique<Service>(store_.get(), &clock_, "us-east-1");
  }

  void Reopen() {
    service_.reset();
    store_->Close();
    store_.reset();
    Open();
  }

  Tenant MakeTenant() {
    StatusOr<TenantCredentials> c = service_->CreateTenant("t-" + RandomAlnum(12));
    EXPECT_TRUE(c.ok()) << c.status().message();
    admin_token_ = c->admin_token;
    return c->tenant;
  }

  Application MakeApp(const Tenant& t, AppType type = AppType::kLive) {
    auto r = Wait<NewApplication>(
        [&](Callback<NewApplication> cb) { service_->CreateApplication(t, type, "app", cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    api_key_ = r->api_key;
    return r->app;
  }

  Session Start(const Application& a) {
    auto r = Wait<Session>([&](Callback<Session> cb) { service_->StartSession(a, cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.value();
  }

  StatusOr<VisitView> Enter(const Session& s, const std::string& pid, const std::string& nick,
                            const Application* a = nullptr) {
    return Wait<VisitView>([&](Callback<VisitView> cb) {
      service_->Enter(a ? *a : app_, s.uuid, EnterRequest{pid, nick, std::nullopt, std::nullopt},
                      cb);
    });
  }

  StatusOr<VisitView> Leave(const Session& s, const std::string& pid) {
    return Wait<VisitView>(
        [&](Callback<VisitView> cb) { service_->Leave(app_, s.uuid, pid, cb); });
  }

  StatusOr<Session> End(const Session& s, const Application* a = nullptr) {
    return Wait<Session>(
        [&](Callback<Session> cb) { service_->EndSession(a ? *a : app_, s.uuid, cb); });
  }

  std::vector<VisitRow> Search(const Session& s, Params p, std::optional<int64_t>* total = nullptr) {
    VisitQuery q;
    EXPECT_TRUE(ParseVisitQuery(p, &q).ok());
    StatusOr<SearchResult> r = service_->Search(app_, s.uuid, q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return {};
    if (total) *total = r->page.total;
    return r->page.items;
  }

  std::string url_;
  std::filesystem::path dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  Tenant tenant_;
  Application app_;
  std::string admin_token_;
  std::string api_key_;
};

TEST_P(StoreContract, TenantsAndCredentials) {
  StatusOr<Tenant> t = service_->AuthenticateAdmin(admin_token_);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->id, tenant_.id);
  EXPECT_EQ(service_->AuthenticateAdmin("rca_wrong").status().code(), Code::kUnauthenticated);
  StatusOr<Application> a = service_->AuthenticateApiKey(api_key_);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->uuid, app_.uuid);
  EXPECT_EQ(service_->AuthenticateApiKey(NewUuid()).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(service_->CreateTenant(tenant_.name).status().code(), Code::kConflict);
  StatusOr<std::vector<Tenant>> all = service_->ListTenants();
  ASSERT_TRUE(all.ok());
  bool found = false;
  for (const Tenant& x : all.value()) found |= x.id == tenant_.id && x.name == tenant_.name;
  EXPECT_TRUE(found);
}

TEST_P(StoreContract, ApplicationLifecycle) {
  const std::string old_key = api_key_;
  Application second = MakeApp(tenant_, AppType::kChat);
  StatusOr<Page<Application>> page = service_->ListApplications(tenant_, PageRequest{0, 1});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].uuid, second.uuid);  // newest first
  EXPECT_EQ(page->items[0].type, AppType::kChat);

  auto paused = Wait<Application>([&](Callback<Application> cb) {
    service_->SetApplicationStatus(tenant_, second.uuid, AppStatus::kInactive, cb);
  });
  ASSERT_TRUE(paused.ok());
  EXPECT_EQ(paused->status, AppStatus::kInactive);
  EXPECT_EQ(Wait<Session>([&](Callback<Session> cb) { service_->StartSession(second, cb); })
                .status()
                .code(),
            Code::kApplicationInactive);

  auto key = Wait<std::string>(
      [&](Callback<std::string> cb) { service_->RotateApiKey(tenant_, app_.uuid, cb); });
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(service_->AuthenticateApiKey(old_key).status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(service_->AuthenticateApiKey(key.value()).ok());

  Session s = Start(app_);
  ASSERT_TRUE(Enter(s, "u1", "kim").ok());
  auto deleted = Wait<Application>(
      [&](Callback<Application> cb) { service_->DeleteApplication(tenant_, app_.uuid, cb); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->status, AppStatus::kDeleted);
  StatusOr<Session> after = service_->GetSession(app_, s.uuid);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->deleted_at.has_value());
  EXPECT_EQ(after->participant_count, 0);
  EXPECT_EQ(Search(s, {}).size(), 1u);  // history stays searchable
  EXPECT_EQ(Wait<Session>([&](Callback<Session> cb) { service_->StartSession(app_, cb); })
                .status()
                .code(),
            Code::kApplicationDeleted);
}

TEST_P(StoreContract, EnterIsIdempotentAndLeaveKeepsItsTime) {
  Session s = Start(app_);
  StatusOr<VisitView> first = Enter(s, "u1", "kim");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  clock_.Advance(1000);
  StatusOr<VisitView> again = Enter(s, "u1", "Kim Lee");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->row.visit.uuid, first->row.visit.uuid);
  EXPECT_EQ(again->row.profile.nickname, "Kim Lee");

  clock_.Advance(1000);
  StatusOr<VisitView> left = Leave(s, "u1");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->row.visit.deleted_at, kT0 + 2000);
  clock_.Advance(1000);
  StatusOr<VisitView> left_again = Leave(s, "u1");
  ASSERT_TRUE(left_again.ok());
  EXPECT_EQ(left_again->row.visit.deleted_at, kT0 + 2000);
  EXPECT_EQ(Leave(s, "never").status().code(), Code::kParticipantNotFound);

  StatusOr<VisitView> back = Enter(s, "u1", "kim");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->created);
  EXPECT_NE(back->row.visit.uuid, first->row.visit.uuid);
  EXPECT_EQ(back->row.profile.created_at, kT0);  // first entry ever
  StatusOr<Session> got = service_->GetSession(app_, s.uuid);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->participant_count, 1);
  EXPECT_EQ(got->visit_count, 2);
}

TEST_P(StoreContract, EndingClosesVisitsAtTheEndTime) {
  Session s = Start(app_);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Enter(s, "u" + std::to_string(i), "n").ok());
  ASSERT_TRUE(Leave(s, "u0").ok());
  clock_.Advance(5000);
  StatusOr<Session> ended = End(s);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->deleted_at, kT0 + 5000);
  EXPECT_EQ(ended->participant_count, 0);
  for (const VisitRow& r : Search(s, {{"size", "100"}})) {
    ASSERT_TRUE(r.visit.deleted_at.has_value());
    if (r.profile.participant_id != "u0") {
      EXPECT_EQ(r.visit.deleted_at, kT0 + 5000);
    } else {
      EXPECT_EQ(r.visit.deleted_at, kT0);
    }
  }
  clock_.Advance(1000);
  StatusOr<Session> again = End(s);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->deleted_at, kT0 + 5000);  // unchanged
  EXPECT_EQ(Enter(s, "u9", "n").status().code(), Code::kSessionEnded);
  EXPECT_TRUE(Leave(s, "u1").ok());
}

TEST_P(StoreContract, StartingASessionEndsTheActiveOne) {
  Session first = Start(app_);
  ASSERT_TRUE(Enter(first, "u1", "kim").ok());
  clock_.Advance(10);
  Session second = Start(app_);
  StatusOr<Session> old = service_->GetSession(app_, first.uuid);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->deleted_at, second.created_at);
  StatusOr<Page<Session>> list = service_->ListSessions(app_, PageRequest{0, 10});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0].uuid, second.uuid);
  EXPECT_EQ(list->total, 2);
}

TEST_P(StoreContract, SearchSortsFiltersAndPages) {
  Session s = Start(app_);
  const std::vector<std::pair<std::string, std::string>> people = {
      {"c", "Charlie"}, {"a", "alice"}, {"b", "Bob"}, {"e", "ALICIA"}, {"d", "dave"}};
  for (const auto& [pid, nick] : people) {
    ASSERT_TRUE(Enter(s, pid, nick).ok());
    clock_.Advance(1000);
  }
  ASSERT_TRUE(Leave(s, "a").ok());  // at kT0 + 5000

  auto ids = [](const std::vector<VisitRow>& rows) {
    std::string out;
    for (const VisitRow& r : rows) out += r.profile.participant_id;
    return out;
  };
  std::optional<int64_t> total;
  EXPECT_EQ(ids(Search(s, {}, &total)), "debac");
  EXPECT_EQ(total, 5);
  EXPECT_EQ(ids(Search(s, {{"option", "ASC"}})), "cabed");
  EXPECT_EQ(ids(Search(s, {{"name", "participant_id"}, {"option", "ASC"}})), "abcde");
  // Binary (code point) order: upper case sorts before lower case.
  EXPECT_EQ(ids(Search(s, {{"name", "nickname"}, {"option", "ASC"}})), "ebcad");
  EXPECT_EQ(ids(Search(s, {{"nickname", "ALI"}, {"option", "ASC"}}, &total)), "ae");
  EXPECT_EQ(total, 2);
  EXPECT_EQ(ids(Search(s, {{"createdStartAt", FormatTimestamp(kT0 + 1000)},
                           {"createdEndAt", FormatTimestamp(kT0 + 3000)},
                           {"option", "ASC"}},
                       &total)),
            "abe");
  EXPECT_EQ(total, 3);
  EXPECT_EQ(ids(Search(s, {{"deletedStartAt", FormatTimestamp(kT0)}}, &total)), "a");
  EXPECT_EQ(total, 1);
  EXPECT_EQ(ids(Search(s, {{"size", "2"}, {"page", "1"}, {"option", "ASC"}})), "be");
  EXPECT_EQ(ids(Search(s, {{"size", "2"}, {"page", "9"}})), "");
  Search(s, {{"firstView", "false"}}, &total);
  EXPECT_FALSE(total.has_value());
}

TEST_P(StoreContract, EqualTimestampsPageWithoutOverlap) {
  Session s = Start(app_);
  for (int i = 0; i < 57; ++i) ASSERT_TRUE(Enter(s, "p" + std::to_string(i), "same").ok());
  for (const char* dir : {"ASC", "DESC"}) {
    for (const char* sort : {"created_at", "nickname"}) {
      std::set<std::string> seen;
      for (int page = 0; page < 6; ++page) {
        for (const VisitRow& r : Search(s, {{"size", "10"},
                                            {"page", std::to_string(page)},
                                            {"name", sort},
                                            {"option", dir}})) {
          EXPECT_TRUE(seen.insert(r.visit.uuid).second) << "row twice: " << r.visit.uuid;
        }
      }
      EXPECT_EQ(seen.size(), 57u) << sort << " " << dir;
    }
  }
}

TEST_P(StoreContract, TenantsAreIsolated) {
  Session s = Start(app_);
  ASSERT_TRUE(Enter(s, "u1", "kim").ok());
  Tenant other = MakeTenant();
  Application other_app = MakeApp(other);
  EXPECT_EQ(service_->GetSession(other_app, s.uuid).status().code(), Code::kSessionNotFound);
  EXPECT_EQ(Enter(s, "u2", "x", &other_app).status().code(), Code::kSessionNotFound);
  EXPECT_EQ(End(s, &other_app).status().code(), Code::kSessionNotFound);
  EXPECT_EQ(service_->GetApplication(other, app_.uuid).status().code(),
            Code::kApplicationNotFound);
  StatusOr<Page<Application>> apps = service_->ListApplications(other, PageRequest{0, 100});
  ASSERT_TRUE(apps.ok());
  ASSERT_EQ(apps->items.size(), 1u);
  EXPECT_EQ(apps->items[0].uuid, other_app.uuid);
  // The same participantId in another tenant is another person.
  Session os = Start(other_app);
  StatusOr<VisitView> v = Enter(os, "u1", "someone else", &other_app);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(Search(s, {})[0].profile.nickname, "kim");
}

TEST_P(StoreContract, ConcurrentEntersOpenOneVisit) {
  Session s = Start(app_);
  std::vector<std::future<StatusOr<VisitView>>> results;
  for (int i = 0; i < 50; ++i) {
    results.push_back(std::async(std::launch::async, [&] { return Enter(s, "same", "n"); }));
  }
  int created = 0;
  std::set<std::string> uuids;
  for (auto& f : results) {
    StatusOr<VisitView> v = f.get();
    ASSERT_TRUE(v.ok()) << v.status().message();
    created += v->created ? 1 : 0;
    uuids.insert(v->row.visit.uuid);
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(uuids.size(), 1u);
  StatusOr<Session> got = service_->GetSession(app_, s.uuid);
  EXPECT_EQ(got->participant_count, 1);
  EXPECT_EQ(got->visit_count, 1);
}

TEST_P(StoreContract, EndRacingEntersLeavesNoVisitOpen) {
  Session s = Start(app_);
  std::atomic<int> entered{0};
  std::vector<std::future<void>> workers;
  for (int w = 0; w < 8; ++w) {
    workers.push_back(std::async(std::launch::async, [&, w] {
      for (int i = 0; i < 25; ++i) {
        StatusOr<VisitView> v = Enter(s, "w" + std::to_string(w) + "-" + std::to_string(i), "n");
        if (v.ok()) {
          entered++;
        } else {
          EXPECT_EQ(v.status().code(), Code::kSessionEnded);
        }
      }
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(End(s).ok());
  for (auto& w : workers) w.get();
  std::optional<int64_t> total;
  std::vector<VisitRow> rows = Search(s, {{"size", "1000"}}, &total);
  EXPECT_EQ(total, entered.load());
  for (const VisitRow& r : rows) EXPECT_TRUE(r.visit.deleted_at.has_value());
  EXPECT_EQ(service_->GetSession(app_, s.uuid)->participant_count, 0);
}

TEST_P(StoreContract, AFailingWriteInABatchChangesNothingAndSparesOthers) {
  Session s = Start(app_);
  std::vector<std::future<StatusOr<VisitView>>> results;
  for (int i = 0; i < 40; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      return i % 2 == 0 ? Enter(s, "ok" + std::to_string(i), "n") : Leave(s, "missing");
    }));
  }
  int ok = 0;
  for (auto& f : results) ok += f.get().ok() ? 1 : 0;
  EXPECT_EQ(ok, 20);
  std::optional<int64_t> total;
  Search(s, {}, &total);
  EXPECT_EQ(total, 20);
}

TEST_P(StoreContract, AcknowledgedWritesSurviveReopen) {
  Session s = Start(app_);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Enter(s, "d" + std::to_string(i), "n").ok());
  Reopen();
  std::optional<int64_t> total;
  std::vector<VisitRow> rows = Search(s, {{"size", "1000"}}, &total);
  EXPECT_EQ(total, 100);
  EXPECT_EQ(rows.size(), 100u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::ValuesIn(BackendUrls()), BackendName);

}  // namespace
}  // namespace rollcall
