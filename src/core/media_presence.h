#ifndef ROLLCALL_CORE_MEDIA_PRESENCE_H_
#define ROLLCALL_CORE_MEDIA_PRESENCE_H_

#include <string>
#include <string_view>

#include "core/participant_token.h"
#include "core/stage_service.h"
#include "core/status.h"

namespace rollcall {

// Presence reported by a media server (nginx with the RTMP module, docs/nginx-rtmp.md): each
// publisher and viewer of a stage's streams is a participant of the stage with protocol RTMP.
//
// RTMP URLs carry at most 255 characters of stream name and arguments, too few for a
// participant token, so a participant first exchanges its token for a stream key
// (CreateStreamKey) and streams to rtmp://<media server>/<app>/<stream>?key=<stream key>.
// A publisher's stream is named after its participantId; a viewer plays the stream of the
// participant it watches.

// One callback of the media server.
struct MediaCall {
  enum class Kind {
    kPublish,        // a publisher starts (nginx on_publish): join, publish STARTED
    kPlay,           // a viewer starts (on_play): join, SUBSCRIBE_STARTED to the stream's owner
    kPublishDone,    // a publisher's stream ended (on_publish_done)
    kPlayDone,       // a viewer's stream ended (on_play_done)
    kUpdatePublish,  // periodic update of a publisher (on_update): a heartbeat
    kUpdatePlay,     // periodic update of a viewer (on_update): a heartbeat
    kRecordDone,     // the recording of a publisher's stream closed (on_record_done)
  };
  Kind kind = Kind::kPublish;
  std::string stream;         // the stream name
  std::string stream_key;     // the key argument of the RTMP URL
  std::string connection_id;  // the media server's connection: "<clientid>@<addr>"
  bool records = false;       // the media server records published streams (kPublish only)
};

// Maps the media server's call names (publish, play, publish_done, play_done, update_publish,
// update_play, record_done) to kinds; others: nullopt.
std::optional<MediaCall::Kind> ParseMediaCallKind(std::string_view call);

struct IssuedStreamKey {
  std::string stream_key;
  std::string participant_id;
  std::string stage_arn;
  Millis expires_at = 0;  // the token's expiry
};

// Thread-safe. Writes complete through Callback after the commit.
class MediaPresence {
 public:
  // REQUIRES: service and stages outlive this.
  MediaPresence(Service* service, StageService* stages) : service_(*service), stages_(*stages) {}

  // The stream key of a verified token of `tenant`: the same token always gets the same key,
  // valid until the token expires. Expired token, deleted stage, revoked participant:
  // kUnauthenticated.
  void CreateStreamKey(RowId tenant, TokenClaims claims, Callback<IssuedStreamKey> cb);

  // Applies one callback. OK: the media server may go on. An unknown, expired or revoked key:
  // kUnauthenticated; a missing capability, or a publish to a stream not named after the
  // publisher: kForbidden; an update of a connection rollcall holds as gone (it left, timed
  // out, or its session ended): kConflict. Done and record callbacks of known connections are
  // applied even after the key expired; of unknown ones they change nothing.
  void Handle(MediaCall call, Callback<Done> cb);

 private:
  Service& service_;
  StageService& stages_;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_MEDIA_PRESENCE_H_
