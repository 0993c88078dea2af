#ifndef ROLLCALL_STORE_STORE_H_
#define ROLLCALL_STORE_STORE_H_

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/search.h"
#include "core/status.h"

namespace rollcall {

// Thrown by Tx methods when the store itself fails (I/O error, lost connection, constraint
// violated by a bug). Store::Read and Store::Write catch it and report Status; code outside
// the store never catches it.
class StoreFailure : public std::runtime_error {
 public:
  StoreFailure(Code code, const std::string& what) : std::runtime_error(what), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// The primitive reads and writes of one transaction. Every method is scoped by tenant:
// a row of another tenant is never returned or changed. Lookups return nullopt when the row
// does not exist (in that tenant). Write methods REQUIRE a write transaction.
// Not thread-safe: a Tx belongs to the one thread running the transaction.
class Tx {
 public:
  virtual ~Tx() = default;

  // Tenants and credentials. InsertTenant returns false if the name is taken.
  virtual bool InsertTenant(Tenant* t, const std::string& admin_token_hash) = 0;
  virtual std::optional<Tenant> GetTenant(RowId id) = 0;
  virtual std::optional<Tenant> FindTenantByAdminHash(const std::string& hash) = 0;
  virtual std::vector<Tenant> ListTenants() = 0;
  virtual void InsertAccessKey(const AccessKey& k) = 0;
  virtual std::optional<AccessKey> FindAccessKey(const std::string& access_key_id) = 0;

  // Applications (stages). Sets a->id.
  virtual void InsertApplication(Application* a, const std::string& api_key_hash) = 0;
  virtual std::optional<Application> FindApplicationByKeyHash(const std::string& hash) = 0;
  virtual std::optional<Application> GetApplication(RowId tenant, RowId id) = 0;
  virtual std::optional<Application> FindApplication(RowId tenant, const std::string& uuid) = 0;
  virtual std::optional<Application> FindApplicationByStageId(RowId tenant,
                                                              const std::string& stage_id) = 0;
  // Newest first.
  virtual std::vector<Application> ListApplications(RowId tenant, int64_t offset,
                                                    int64_t limit) = 0;
  virtual int64_t CountApplications(RowId tenant) = 0;
  // Writes name, status and active_session_id.
  virtual void UpdateApplication(const Application& a) = 0;
  virtual void SetApiKeyHash(RowId tenant, RowId app, const std::string& hash) = 0;

  // Sessions. Sets s->id.
  virtual void InsertSession(Session* s) = 0;
  virtual std::optional<Session> GetSession(RowId tenant, RowId id) = 0;
  virtual std::optional<Session> FindSession(RowId tenant, RowId app, const std::string& uuid) = 0;
  virtual std::optional<Session> FindSessionByStageSessionId(RowId tenant, RowId app,
                                                             const std::string& st_id) = 0;
  // Newest first.
  virtual std::vector<Session> ListSessions(RowId tenant, RowId app, int64_t offset,
                                            int64_t limit) = 0;
  virtual int64_t CountSessions(RowId tenant, RowId app) = 0;
  // Writes deleted_at, participant_count and visit_count.
  virtual void UpdateSession(const Session& s) = 0;

  // Profiles. Sets p->id.
  virtual std::optional<Profile> FindProfile(RowId tenant, const std::string& participant_id) = 0;
  virtual std::optional<Profile> GetProfile(RowId tenant, RowId id) = 0;
  virtual void InsertProfile(Profile* p) = 0;
  // Writes nickname and profile_image_url.
  virtual void UpdateProfile(const Profile& p) = 0;

  // Members (one per session and profile). Sets m->id.
  virtual std::optional<Member> FindMember(RowId tenant, RowId session, RowId profile) = 0;
  virtual void InsertMember(Member* m) = 0;
  // Writes attributes_json, open_visit_id and last_visit_id.
  virtual void UpdateMember(const Member& m) = 0;

  // Visits. Sets v->id.
  virtual void InsertVisit(Visit* v) = 0;
  virtual std::optional<Visit> GetVisit(RowId tenant, RowId id) = 0;
  // Writes deleted_at.
  virtual void UpdateVisit(const Visit& v) = 0;
  // Closes every open visit of the session at `at`, clears its members' open visit and appends
  // a LEFT event with `reason` for each. Returns how many visits it closed.
  virtual int64_t CloseOpenVisits(RowId tenant, RowId session, Millis at,
                                  const std::string& reason) = 0;
  // One page of the session's visits, filtered and ordered as `q` says; ties by visit id.
  virtual std::vector<VisitRow> SearchVisits(RowId tenant, RowId session, const VisitQuery& q) = 0;
  // Number of visits matching q's filters (paging ignored).
  virtual int64_t CountVisits(RowId tenant, RowId session, const VisitQuery& q) = 0;

  // Events. Sets e->id.
  virtual void InsertEvent(Event* e) = 0;
};

// A transactional store. Implementations: sqlite/, postgres/. Thread-safe.
class Store {
 public:
  using TxFn = std::function<Status(Tx&)>;
  using Done = std::function<void(Status)>;

  virtual ~Store() = default;

  // Runs fn in a write transaction, possibly grouped with other writers' fns in one commit.
  // If fn returns non-OK, exactly its own changes are rolled back. `done` runs once, after the
  // commit is durable (or failed), with fn's Status or the failure; it runs on a store thread
  // and must not block. A store shared by several processes may roll fn back and run it again
  // (after a deadlock or a race on a unique key), so fn must act only through its Tx and
  // overwrite, not accumulate, what it reports to `done`.
  virtual void Write(TxFn fn, Done done) = 0;

  // Runs fn in a read-only snapshot on the calling thread. Returns fn's Status, or kUnavailable
  // if the store cannot be reached.
  virtual Status Read(const TxFn& fn) = 0;

  // OK when the store answers.
  virtual Status Ping() = 0;

  // Waits for every queued write to commit and stops accepting new ones (they fail with
  // kUnavailable). Idempotent.
  virtual void Close() = 0;

  // Write() and wait for `done`.
  Status WriteAndWait(TxFn fn) {
    std::promise<Status> done;
    std::future<Status> result = done.get_future();
    Write(std::move(fn), [&done](Status s) { done.set_value(std::move(s)); });
    return result.get();
  }
};

struct StoreOptions {
  int readers = 4;              // read connections
  int max_batch = 1000;         // writes grouped into one transaction at most
};

// Opens the store a URL names: "sqlite:PATH" or "postgresql://...". Applies pending schema
// migrations first. Unknown scheme or failure: non-OK.
StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options);

}  // namespace rollcall

#endif  // ROLLCALL_STORE_STORE_H_
