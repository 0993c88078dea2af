// Search results against a model: random enters, leaves and nickname changes (with a clock
// that ties and steps back), then random queries whose pages and totals must equal what a
// brute-force filter and sort of the model gives. Covers every way a store may run a search
// (seq ranges, trigram nickname lookups, scans). Backends: SQLite in a temp file, and
// PostgreSQL when ROLLCALL_TEST_PG_URL names a database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <random>

#include "core/ids.h"
#include "core/service.h"
#include "core/text.h"
#include "store/store.h"
#include "backends.h"

namespace rollcall {
namespace {

constexpr Millis kT0 = 1795304540000;  // 2026-11-21T23:42:20Z

struct ModelVisit {
  int64_t order;  // insertion order, as visit ids are
  std::string uuid;
  std::string participant;
  Millis created_at;
  std::optional<Millis> deleted_at;
};

const std::vector<std::string> kNicknames = {
    "Tiger12", "tiger120", "TIGRESS", "a*b?c[d", "김철수", "Otter", "ti", "BigTiger1", "x",
    "say \"hi\"", "abcXdef"};

class SearchModel : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = ResolveBackendUrl(GetParam(), "rollcall-search-model", &dir_);
    StatusOr<std::unique_ptr<Store>> s = OpenStore(url_, StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s.value());
    service_ = std::make_unique<Service>(store_.get(), &clock_, "us-east-1");
  }

  void TearDown() override {
    service_.reset();
    if (store_) store_->Close();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Application NewApp(const Tenant& t) {
    auto r = Wait<NewApplication>(
        [&](Callback<NewApplication> cb) { service_->CreateApplication(t, AppType::kLive, "", cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r->app;
  }

  Session Start(const Application& a) {
    auto r = Wait<Session>([&](Callback<Session> cb) { service_->StartSession(a, cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.value();
  }

  // Runs `ops` random operations in session s of app a, recording visits in the model when
  // `model` is set. Participants are "p0".."p(n-1)".
  void Churn(const Application& a, const Session& s, int ops, std::vector<ModelVisit>* model) {
    std::uniform_int_distribution<int> who(0, 29), pct(0, 99), nick(0, kNicknames.size() - 1);
    for (int i = 0; i < ops; ++i) {
      const int roll = pct(rng_);
      if (roll < 4) {
        clock_.Advance(-std::uniform_int_distribution<int>(1, 6)(rng_));  // the clock steps back
      } else if (roll < 75) {
        clock_.Advance(std::uniform_int_distribution<int>(0, 3)(rng_));  // ties are common
      }
      const std::string pid = "p" + std::to_string(who(rng_));
      if (pct(rng_) < 60) {
        std::string& current = nicknames_[pid];
        if (current.empty() || pct(rng_) < 2) current = kNicknames[nick(rng_)];
        auto r = Wait<VisitView>([&](Callback<VisitView> cb) {
          service_->Enter(a, s.uuid, EnterRequest{pid, current, std::nullopt, std::nullopt}, cb);
        });
        ASSERT_TRUE(r.ok()) << r.status().message();
        if (r->created && model != nullptr) {
          model->push_back(ModelVisit{static_cast<int64_t>(model->size()), r->row.visit.uuid, pid,
                                      r->row.visit.created_at, std::nullopt});
        }
      } else {
        auto r = Wait<VisitView>(
            [&](Callback<VisitView> cb) { service_->Leave(a, s.uuid, pid, cb); });
        if (!r.ok()) {
          ASSERT_EQ(r.status().code(), Code::kParticipantNotFound);
          continue;
        }
        if (model != nullptr) {
          for (ModelVisit& v : *model) {
            if (v.uuid == r->row.visit.uuid) v.deleted_at = r->row.visit.deleted_at;
          }
        }
      }
    }
  }

  std::string url_;
  std::filesystem::path dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  std::mt19937 rng_{20261121};
  std::map<std::string, std::string> nicknames_;  // tenant-wide, as profiles are
};

TEST_P(SearchModel, PagesAndTotalsMatchTheModel) {
  StatusOr<TenantCredentials> t = service_->CreateTenant("t-" + RandomAlnum(10));
  ASSERT_TRUE(t.ok());
  StatusOr<TenantCredentials> other = service_->CreateTenant("o-" + RandomAlnum(10));
  ASSERT_TRUE(other.ok());
  const Application app = NewApp(t->tenant);
  const Application sibling = NewApp(t->tenant);
  const Application foreign = NewApp(other->tenant);
  const Session s = Start(app);
  const Session s2 = Start(sibling);
  const Session s3 = Start(foreign);

  std::vector<ModelVisit> model;
  // Same participants and nicknames in a sibling session and in another tenant: a search must
  // never return their visits.
  Churn(sibling, s2, 150, nullptr);
  std::map<std::string, std::string> saved = nicknames_;
  nicknames_.clear();
  Churn(foreign, s3, 150, nullptr);
  nicknames_ = saved;
  Churn(app, s, 3000, &model);
  Churn(sibling, s2, 50, nullptr);
  ASSERT_GT(model.size(), 200u) << "the churn should open many visits";

  Millis lo = model[0].created_at, hi = lo;
  for (const ModelVisit& v : model) {
    lo = std::min(lo, v.created_at);
    hi = std::max(hi, v.created_at);
  }
  std::uniform_int_distribution<int> pct(0, 99);
  std::uniform_int_distribution<Millis> when(lo - 5, hi + 5);
  const std::vector<std::string> filters = {"ti",  "tiger12", "TIGER", "a*b",     "?c[",
                                            "철수", "김철수",   "zzz",   "GRESS",   "x",
                                            "\"hi", "y \"h",    "r1",    "iger120",
                                            "abcdef", "r12",    "ESS",   "def",     "철수"};
  const std::vector<int64_t> sizes = {1, 7, 25, 1000};
  for (int iter = 0; iter < 400; ++iter) {
    Params p;
    const std::string sort = std::vector<std::string>{"created_at", "created_at", "nickname",
                                                      "participant_id"}[pct(rng_) % 4];
    const bool asc = pct(rng_) < 50;
    p.emplace_back("name", sort);
    p.emplace_back("option", asc ? "ASC" : "DESC");
    const int64_t size = sizes[pct(rng_) % sizes.size()];
    p.emplace_back("size", std::to_string(size));
    std::optional<std::string> nick;
    std::optional<Millis> cf, ct, df, dt;
    if (pct(rng_) < 40) nick = filters[pct(rng_) % filters.size()];
    if (pct(rng_) < 50) cf = when(rng_);
    if (pct(rng_) < 50) ct = when(rng_);
    if (cf && ct && *cf > *ct) std::swap(cf, ct);
    if (pct(rng_) < 15) df = when(rng_);
    if (pct(rng_) < 15) dt = when(rng_);
    if (df && dt && *df > *dt) std::swap(df, dt);
    if (nick) p.emplace_back("nickname", *nick);
    if (cf) p.emplace_back("createdStartAt", FormatTimestamp(*cf));
    if (ct) p.emplace_back("createdEndAt", FormatTimestamp(*ct));
    if (df) p.emplace_back("deletedStartAt", FormatTimestamp(*df));
    if (dt) p.emplace_back("deletedEndAt", FormatTimestamp(*dt));

    std::vector<const ModelVisit*> want;
    for (const ModelVisit& v : model) {
      if (nick && FoldCase(nicknames_[v.participant]).find(FoldCase(*nick)) == std::string::npos) {
        continue;
      }
      if ((cf && v.created_at < *cf) || (ct && v.created_at > *ct)) continue;
      if ((df || dt) && !v.deleted_at) continue;
      if ((df && *v.deleted_at < *df) || (dt && *v.deleted_at > *dt)) continue;
      want.push_back(&v);
    }
    auto key = [&](const ModelVisit* v) {
      if (sort == "nickname") return std::make_pair(nicknames_[v->participant], v->order);
      if (sort == "participant_id") return std::make_pair(v->participant, v->order);
      char buf[24];
      std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(v->created_at));
      return std::make_pair(std::string(buf), v->order);
    };
    std::sort(want.begin(), want.end(), [&](const ModelVisit* a, const ModelVisit* b) {
      return asc ? key(a) < key(b) : key(b) < key(a);
    });
    const int64_t pages = std::max<int64_t>(1, (static_cast<int64_t>(want.size()) + size - 1) / size);
    const int64_t page = std::vector<int64_t>{0, 1, pages - 1, pages, pages / 2}[pct(rng_) % 5];
    p.emplace_back("page", std::to_string(page));

    VisitQuery q;
    ASSERT_TRUE(ParseVisitQuery(p, &q).ok());
    StatusOr<SearchResult> r = service_->Search(app, s.uuid, q);
    ASSERT_TRUE(r.ok()) << r.status().message();
    std::string query;
    for (const auto& [k, v] : p) query += k + "=" + v + "&";
    ASSERT_EQ(r->page.total, static_cast<int64_t>(want.size())) << query;
    std::vector<std::string> got_ids, want_ids;
    for (const VisitRow& row : r->page.items) {
      got_ids.push_back(row.visit.uuid);
      EXPECT_EQ(row.profile.nickname, nicknames_[row.profile.participant_id]) << query;
    }
    for (int64_t i = page * size; i < std::min<int64_t>(want.size(), (page + 1) * size); ++i) {
      want_ids.push_back(want[i]->uuid);
    }
    ASSERT_EQ(got_ids, want_ids) << query;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SearchModel, ::testing::ValuesIn(BackendUrls()), BackendName);

}  // namespace
}  // namespace rollcall
