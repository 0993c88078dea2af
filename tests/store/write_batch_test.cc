// Group commit: a write that fails after changing something leaves no change behind, and the
// writes batched with it (before and after) are committed, each with its own outcome, whether
// the failure is a returned Status or a thrown StoreFailure. Backends: SQLite in a temp file,
// and PostgreSQL when ROLLCALL_TEST_PG_URL names a database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "core/ids.h"
#include "store/store.h"
#include "backends.h"

namespace rollcall {
namespace {

class WriteBatch : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = ResolveBackendUrl(GetParam(), "rollcall-write-batch", &dir_);
    StatusOr<std::unique_ptr<Store>> s = OpenStore(url_, StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s.value());
  }

  void TearDown() override {
    if (store_) store_->Close();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string url_;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(WriteBatch, AWriteFailingAfterItsChangesIsUndoneAlone) {
  const std::string prefix = "wb-" + RandomAlnum(8) + "-";
  enum Outcome { kOk, kFailAfterWrite, kThrowAfterWrite, kFailBeforeWrite };
  const std::vector<Outcome> plan = {kOk, kFailAfterWrite, kOk, kThrowAfterWrite, kOk,
                                     kFailBeforeWrite, kOk, kFailAfterWrite, kOk};
  // The first write holds the writer while the others queue, so they share one transaction.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> first;
  store_->Write([released](Tx&) {
    released.wait();
    return Status::Ok();
  }, [&first](Status s) { first.set_value(s); });

  std::vector<std::promise<Status>> done(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    const std::string name = prefix + std::to_string(i);
    const Outcome outcome = plan[i];
    store_->Write(
        [name, outcome](Tx& tx) -> Status {
          if (outcome == kFailBeforeWrite) return Status::Invalid("refused before writing");
          Tenant t;
          t.name = name;
          t.account_id = NewAccountId();
          t.created_at = 1;
          if (!tx.InsertTenant(&t, "hash-" + name)) return Status::Internal("name taken");
          if (outcome == kFailAfterWrite) return Status::Invalid("refused after writing");
          if (outcome == kThrowAfterWrite) throw StoreFailure(Code::kInternal, "thrown after writing");
          return Status::Ok();
        },
        [&done, i](Status s) { done[i].set_value(s); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  release.set_value();
  ASSERT_TRUE(first.get_future().get().ok());

  for (size_t i = 0; i < plan.size(); ++i) {
    const Status s = done[i].get_future().get();
    switch (plan[i]) {
      case kOk:
        EXPECT_TRUE(s.ok()) << i << ": " << s.message();
        break;
      case kFailAfterWrite:
      case kFailBeforeWrite:
        EXPECT_EQ(s.code(), Code::kInvalidArgument) << i;
        break;
      case kThrowAfterWrite:
        EXPECT_EQ(s.code(), Code::kInternal) << i;
        break;
    }
  }
  std::set<std::string> names;
  ASSERT_TRUE(store_->Read([&](Tx& tx) {
    for (const Tenant& t : tx.ListTenants()) {
      if (t.name.rfind(prefix, 0) == 0) names.insert(t.name);
    }
    return Status::Ok();
  }).ok());
  std::set<std::string> want;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (plan[i] == kOk) want.insert(prefix + std::to_string(i));
  }
  EXPECT_EQ(names, want);
}

INSTANTIATE_TEST_SUITE_P(Backends, WriteBatch, ::testing::ValuesIn(BackendUrls()), BackendName);

}  // namespace
}  // namespace rollcall
