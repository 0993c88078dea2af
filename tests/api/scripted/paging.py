"""Sort stability across pages (spec: instream-api.md, search: "ties break by visit id, so pages
never overlap or skip"), with many equal sort keys: equal enter times (concurrent enters land in
the same millisecond), one nickname shared by everyone, and participants with several visits."""

import collections

from harness import check
from instream import InStream, expect_status, parallel

KEYS = {
    "created_at": lambda v: v["createdAt"],
    "participant_id": lambda v: v["participant"]["participantId"].encode("utf-8"),
    "nickname": lambda v: v["participant"]["nickname"].encode("utf-8"),
}


def _populate(ctx, n_participants=120, conns=12):
    """A session with 3 visits per participant (enter, leave, enter, leave, enter), made by
    concurrent requests.
    Returns (InStream, session id, every visit)."""
    _, app = ctx.new_tenant_app()
    clients = [InStream(ctx.server, app["apiKey"]) for _ in range(conns)]
    sid = clients[0].start_session()["sessionId"]
    pids = ["q%03d" % i for i in range(n_participants)]

    def round_of(op):
        def work(w):
            for pid in pids[w::conns]:
                expect_status(op(clients[w], pid), 200, 201, what="%s" % pid)
        parallel(conns, work)

    # Everyone has the same nickname; half of the ids are upper case to exercise binary order.
    def ident(pid):
        return pid.upper() if int(pid[1:]) % 2 else pid

    for last in (False, False, True):
        round_of(lambda c, pid: c.enter(sid, ident(pid), "same"))
        if not last:
            round_of(lambda c, pid: c.leave(sid, ident(pid)))
    for c in clients[1:]:
        c.close()
    visits = clients[0].all_visits(sid)
    check(len(visits) == 3 * n_participants, "expected %d visits, found %d"
          % (3 * n_participants, len(visits)))
    return clients[0], sid, visits


def _pages(c, sid, size, **params):
    out, page = [], 0
    while True:
        b = c.search(sid, size=size, page=page, **params)
        check(b["currentPage"] == page and b["pageSize"] == size and b["length"] == len(b["data"]),
              "bad envelope %s" % {k: b[k] for k in b if k != "data"})
        if not b["data"]:
            return out, page
        check(len(b["data"]) <= size, "page longer than size")
        out.extend(b["data"])
        page += 1


def test_pages_never_overlap_or_skip_with_many_equal_keys(ctx):
    c, sid, visits = _populate(ctx)
    everything = {v["participantSessionId"] for v in visits}
    times = collections.Counter(v["createdAt"] for v in visits)
    biggest = max(times.values())
    if ctx.verbose:
        print("    largest group of equal enter times: %d of %d visits" % (biggest, len(visits)))
    check(biggest >= 3, "no enter times are shared (largest group %d); the test would not "
          "exercise ties on created_at" % biggest)
    for name, key in KEYS.items():
        orders = {}
        for option in ("ASC", "DESC"):
            full = c.search(sid, size=1000, name=name, option=option)
            check(full["totalElements"] == len(visits), "totalElements %s" % full["totalElements"])
            ref = [v["participantSessionId"] for v in full["data"]]
            check(set(ref) == everything and len(ref) == len(everything), "size=1000 misses rows")
            ks = [key(v) for v in full["data"]]
            check(ks == sorted(ks, reverse=option == "DESC"), "%s %s is not sorted" % (name, option))
            for size in (1, 7, 50) if name == "nickname" else (7, 50):
                rows, pages = _pages(c, sid, size, name=name, option=option)
                got = [v["participantSessionId"] for v in rows]
                dup = [x for x, n in collections.Counter(got).items() if n > 1]
                check(not dup, "%s %s size=%d: %d rows on two pages" % (name, option, size, len(dup)))
                check(set(got) == everything, "%s %s size=%d: %d rows skipped"
                      % (name, option, size, len(everything - set(got))))
                check(got == ref, "%s %s size=%d: paging order differs from one big page"
                      % (name, option, size))
                check(pages == -(-len(visits) // size), "page count %d for size %d" % (pages, size))
            orders[option] = ref
        # Ties break by visit id in the sort's direction: DESC is exactly ASC reversed.
        check(orders["DESC"] == orders["ASC"][::-1],
              "%s: DESC is not the reverse of ASC; ties are not broken consistently" % name)
    c.close()


def test_firstview_false_pages_equal_counted_pages(ctx):
    c, sid, visits = _populate(ctx, n_participants=40, conns=8)
    for page in range(0, 9):
        a = c.search(sid, size=17, page=page, name="nickname", option="ASC")
        b = c.search(sid, size=17, page=page, name="nickname", option="ASC", firstView="false")
        check(a["data"] == b["data"], "page %d differs with firstView=false" % page)
        check(b["totalElements"] is None and b["totalPages"] is None, "firstView=false counted")
        check(a["totalElements"] == len(visits) and a["totalPages"] == -(-len(visits) // 17),
              "totals %s/%s" % (a["totalElements"], a["totalPages"]))
    c.close()


def test_filtered_paging_is_stable(ctx):
    c, sid, visits = _populate(ctx, n_participants=60, conns=8)
    # The leave window holds the two closed visits of everyone; sorted by the shared nickname,
    # every row ties.
    left = [v for v in visits if v["deletedAt"] is not None]
    lo = min(v["deletedAt"] for v in left)
    hi = max(v["deletedAt"] for v in left)
    ref = c.search(sid, size=1000, deletedStartAt=lo, deletedEndAt=hi, name="nickname", option="DESC")
    check(ref["totalElements"] == len(left) == 120, "leave window found %s" % ref["totalElements"])
    rows, _ = _pages(c, sid, 9, deletedStartAt=lo, deletedEndAt=hi, name="nickname", option="DESC")
    check([v["participantSessionId"] for v in rows] == [v["participantSessionId"] for v in ref["data"]],
          "filtered pages differ from one big filtered page")
    past = c.search(sid, size=9, page=14, deletedStartAt=lo, deletedEndAt=hi)
    check(past["data"] == [] and past["length"] == 0 and past["totalElements"] == 120,
          "past the end: %s" % {k: past[k] for k in past if k != "data"})
    c.close()
