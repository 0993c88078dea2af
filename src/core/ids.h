#ifndef ROLLCALL_CORE_IDS_H_
#define ROLLCALL_CORE_IDS_H_

#include <string>
#include <string_view>

namespace rollcall {

// Identifier formats shared by both API faces. Generators are thread-safe.

// A random (version 4) UUID in canonical lower-case form.
std::string NewUuid();
// True for 8-4-4-4-12 hex digits, either case.
bool IsUuid(std::string_view s);
// Lower-cases a UUID. REQUIRES: IsUuid(s).
std::string CanonicalUuid(std::string_view s);

// n random characters from [a-zA-Z0-9].
std::string RandomAlnum(size_t n);
// A stage id: 12 characters of [a-zA-Z0-9].
std::string NewStageId();
// A stage session id: "st-" and 13 characters of [a-zA-Z0-9].
std::string NewStageSessionId();
// A 12-digit AWS-style account id.
std::string NewAccountId();
// An access key id: "AKIA" and 16 characters of [A-Z0-9].
std::string NewAccessKeyId();
// A 40-character secret access key.
std::string NewSecretAccessKey();
// An admin token: "rca_" and 43 url-safe characters (256 bits).
std::string NewAdminToken();

// arn:aws:ivs:{region}:{account}:stage/{stage_id}
std::string StageArn(std::string_view region, std::string_view account, std::string_view stage_id);

// The IVS participantId of an In-Stream participantId: the id itself when it matches
// [a-zA-Z0-9-]{1,64} (as UUIDs do), otherwise "h-" and the first 40 hex digits of its SHA-256.
std::string IvsParticipantIdFor(std::string_view participant_id);

}  // namespace rollcall

#endif  // ROLLCALL_CORE_IDS_H_
