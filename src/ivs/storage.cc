// IVS storage configurations: Create, Get, List, Delete (metadata only).
#include "ivs/ivs_http.h"

namespace rollcall::ivs {

namespace json = boost::json;

namespace {

json::object StorageJson(const StageService& stages, const Tenant& t, const StorageView& v) {
  return json::object{
      {"arn", stages.StorageArnOf(t, v.config.config_id)},
      {"name", v.config.name},
      {"s3", json::object{{"bucketName", v.config.bucket_name}}},
      {"tags", TagsJson(v.tags)},
  };
}

}  // namespace

void RegisterStorageOperations(Registrar& r) {
  r.Operation("CreateStorageConfiguration", [](Call c) {
    const std::string bucket(c.input.at("s3").as_object().at("bucketName").as_string());
    c.stages->CreateStorageConfiguration(
        c.tenant, c.StrOr("name", ""), bucket, TagsFrom(c.input, "tags"),
        c.Then<StorageView>([c](const StorageView& v) {
          return json::object{{"storageConfiguration", StorageJson(*c.stages, c.tenant, v)}};
        }));
  });

  r.Operation("GetStorageConfiguration", [](Call c) {
    StatusOr<StorageView> v = c.stages->GetStorageConfiguration(c.tenant, *c.Str("arn"));
    if (!v.ok()) return c.Fail(v.status());
    c.Ok(json::object{{"storageConfiguration", StorageJson(*c.stages, c.tenant, v.value())}});
  });

  r.Operation("ListStorageConfigurations", [](Call c) {
    constexpr std::string_view kContext = "ListStorageConfigurations";
    StatusOr<std::optional<json::array>> pos = c.Position(kContext, "i");
    if (!pos.ok()) return c.Fail(pos.status());
    const RowId after = pos.value() ? pos.value()->at(0).as_int64() : 0;
    StatusOr<KeysetPage<StorageView>> page =
        c.stages->ListStorageConfigurations(c.tenant, after, c.MaxResults(50));
    if (!page.ok()) return c.Fail(page.status());
    json::array items;
    for (const StorageView& v : page->items) items.push_back(StorageJson(*c.stages, c.tenant, v));
    json::object out{{"storageConfigurations", std::move(items)}};
    if (page->more) out["nextToken"] = c.NextToken(kContext, {page->items.back().config.id});
    c.Ok(std::move(out));
  });

  r.Operation("DeleteStorageConfiguration", [](Call c) {
    c.stages->DeleteStorageConfiguration(c.tenant, *c.Str("arn"),
                                         c.Then<Done>([](const Done&) { return json::object(); }));
  });
}

}  // namespace rollcall::ivs
