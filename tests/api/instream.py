"""A thin In-Stream API client for the scripted tests (tests/api/scripted/*.py)."""

import threading

from harness import TestFailure, check


class InStream:
    """The In-Stream face with one ApiKey over one keep-alive connection. Not thread-safe:
    one per thread."""

    def __init__(self, server, api_key, prefix="/v1"):
        self.server = server
        self.client = server.client()
        self.key = api_key
        self.prefix = prefix

    def close(self):
        self.client.close()

    def call(self, method, path, body=None):
        return self.client.request(method, self.prefix + path, headers={"ApiKey": self.key},
                                   json_body=body)

    def start_session(self):
        r = self.call("POST", "/applications/sessions")
        check(r.status == 201, "start session: %r" % r)
        return r.json()

    def end_session(self, sid):
        return self.call("POST", "/applications/sessions/%s/end" % sid)

    def get_session(self, sid):
        r = self.call("GET", "/applications/sessions/%s" % sid)
        check(r.status == 200, "get session: %r" % r)
        return r.json()

    def enter(self, sid, participant_id, nickname=None):
        return self.call("POST", "/applications/sessions/%s/participants/enter" % sid,
                         {"participantId": participant_id,
                          "nickname": nickname if nickname is not None else participant_id})

    def leave(self, sid, participant_id):
        return self.call("POST", "/applications/sessions/%s/participants/leave" % sid,
                         {"participantId": participant_id})

    def search(self, sid, **params):
        q = "&".join("%s=%s" % (k, v) for k, v in params.items())
        r = self.call("GET", "/applications/sessions/%s/participants%s" % (sid, "?" + q if q else ""))
        check(r.status == 200, "search %s: %r" % (q, r))
        return r.json()

    def all_visits(self, sid, **params):
        """Every visit of the session, paging with size=1000."""
        out, page = [], 0
        while True:
            b = self.search(sid, size=1000, page=page, **params)
            out.extend(b["data"])
            if len(b["data"]) < 1000:
                return out
            page += 1


def parallel(n, fn):
    """Runs fn(i) for i in range(n) on n threads released together; returns the results in
    order. An exception in any thread is raised here."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as e:  # re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def expect_status(resp, *statuses, what=""):
    if resp.status not in statuses:
        raise TestFailure("%s: expected %s, got %r" % (what or "request", statuses, resp))
    return resp
