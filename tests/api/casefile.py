"""Parser and executor of the data-driven API case files (tests/api/cases/*.case).

The format is documented in tests/api/README.md. In short: a file is a sequence of records
separated by blank lines; `request` (or `then`) records hold an HTTP request, a `----` line,
the expected status (and error code) and the expected JSON body with $matchers, then
`capture` lines. `case TITLE` starts a named case; everything before the first case is setup.
"""

import datetime
import json
import re
import shlex
import time
import urllib.parse
import uuid

from harness import TestFailure, check
import fixtures

KEYWORDS = ("case", "let", "header", "fixture", "sleep", "watch", "unwatch", "request", "then",
            "capture", "contains", "expect-header")
HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(?: (.*))?$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
NAMED_RES = {
    "$uuid": UUID_RE,
    "$timestamp": TIMESTAMP_RE,
    "$stageSessionId": re.compile(r"^st-[A-Za-z0-9]{13}$"),
    "$stageArn": re.compile(r"^arn:aws:ivs:[a-z0-9-]+:\d{12}:stage/[A-Za-z0-9]{12}$"),
}


class CaseError(Exception):
    """A malformed case file."""


def is_keyword_line(line):
    word = line.split(" ", 1)[0]
    return word in KEYWORDS


# --- records -----------------------------------------------------------------------------


class Record:
    def __init__(self, kind, line, args):
        self.kind = kind
        self.line = line  # 1-based line number in the file
        self.args = args  # the rest of the first line
        self.headers = []  # request headers: (name, value-template)
        self.body = None  # request body template, or None
        self.status = None
        self.code = None
        self.expect = None  # expected JSON template text, or None
        self.captures = []  # (path, var)
        self.contains = []  # text templates
        self.expect_headers = []  # (name, pattern template)


def parse(text, filename):
    """Returns the records of a case file."""
    lines = text.split("\n")
    records = []
    i = 0
    n = len(lines)

    def err(msg, at):
        raise CaseError("%s:%d: %s" % (filename, at + 1, msg))

    while i < n:
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            i += 1
            continue
        if not is_keyword_line(line):
            err("expected a record keyword (%s), got %r" % (", ".join(KEYWORDS), line), i)
        kind, _, args = line.partition(" ")
        args = args.strip()
        rec = Record(kind, i + 1, args)
        i += 1
        if kind in ("case", "let", "header", "fixture", "sleep", "unwatch"):
            records.append(rec)
            continue
        if kind not in ("request", "then", "watch"):
            err("%s must follow a request's expected answer" % kind, i - 1)
        parts = args.split(" ", 1)
        if len(parts) != 2 or not parts[1].startswith(("/", "$")):
            err("expected `%s METHOD /path`" % kind, i - 1)
        # Headers: lines right after the request line.
        while i < n and not lines[i].startswith("#") and HEADER_LINE.match(lines[i]) \
                and not is_keyword_line(lines[i]) and lines[i] != "----":
            m = HEADER_LINE.match(lines[i])
            rec.headers.append((m.group(1), m.group(2) or ""))
            i += 1
        if kind == "watch":
            records.append(rec)
            continue
        # Body: everything up to ----, after an optional blank line.
        body = []
        while i < n and lines[i] != "----":
            if is_keyword_line(lines[i]) and not body:
                err("request without a `----` line and expected status", i)
            if not lines[i].startswith("#"):
                body.append(lines[i])
            i += 1
        if i >= n:
            err("request without a `----` line", rec.line - 1)
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        rec.body = "\n".join(body) if body else None
        i += 1  # ----
        if i >= n or not lines[i].strip():
            err("expected a status line after ----", i)
        status = lines[i].split()
        try:
            rec.status = int(status[0])
        except ValueError:
            err("bad status line %r" % lines[i], i)
        if len(status) > 1:
            rec.code = status[1]
        i += 1
        expect = []
        while i < n and lines[i].strip() and not is_keyword_line(lines[i]):
            if not lines[i].startswith("#"):
                expect.append(lines[i])
            i += 1
        rec.expect = "\n".join(expect) if expect else None
        while i < n and lines[i].strip() and lines[i].split(" ", 1)[0] in (
                "capture", "contains", "expect-header"):
            word, _, rest = lines[i].partition(" ")
            if word == "capture":
                m = re.match(r"^(\S+)\s*->\s*(\S+)$", rest.strip())
                if not m:
                    err("expected `capture path -> var`", i)
                rec.captures.append((m.group(1), m.group(2)))
            elif word == "contains":
                rec.contains.append(rest)
            else:
                m = HEADER_LINE.match(rest.strip())
                if not m:
                    err("expected `expect-header Name: pattern`", i)
                rec.expect_headers.append((m.group(1), m.group(2) or ""))
            i += 1
        records.append(rec)
    return records


# --- variables -----------------------------------------------------------------------------


def parse_ts(s):
    """RFC 3339 / ISO 8601 text -> epoch milliseconds."""
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return int(round(d.timestamp() * 1000))


def format_ts(ms, offset="Z"):
    if offset in ("Z", "z"):
        tz = datetime.timezone.utc
        suffix = "Z"
    else:
        m = re.match(r"^([+-])(\d\d):(\d\d)$", offset)
        if not m:
            raise CaseError("bad offset %r" % offset)
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        if m.group(1) == "-":
            minutes = -minutes
        tz = datetime.timezone(datetime.timedelta(minutes=minutes))
        suffix = offset
    d = datetime.datetime.fromtimestamp(ms / 1000.0, tz)
    d = d.replace(microsecond=(ms % 1000) * 1000)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (ms % 1000) + suffix


def apply_filter(value, f):
    name, _, arg = f.partition("=")
    if name == "tz":
        return format_ts(parse_ts(value), arg)
    if name == "ms":
        return format_ts(parse_ts(value) + int(arg))
    if name == "nozone":
        return format_ts(parse_ts(value))[:-1]
    if name == "sec":
        return format_ts(parse_ts(value) // 1000 * 1000)[:-5] + "Z"
    if name == "ns":
        return format_ts(parse_ts(value))[:-1] + "999999Z"
    if name == "url":
        return urllib.parse.quote(value, safe="")
    if name == "upper":
        return value.upper()
    if name == "lower":
        return value.lower()
    raise CaseError("unknown filter %r" % f)


VAR_RE = re.compile(r"\$\{([^}]*)\}")
REPEAT_RE = re.compile(r'^"(.*)"(?:\*(\d+))?$')


def to_text(v):
    return v if isinstance(v, str) else json.dumps(v)


def resolve(expr, variables):
    """The value of one ${...} expression: a variable, "literal", "literal"*N, newuuid or
    byte:HH, then any |filters."""
    base, *filters = expr.split("|")
    m = REPEAT_RE.match(base)
    if m:
        value = m.group(1) * int(m.group(2) or 1)
    elif base.startswith("byte:"):
        # One raw byte (hex) in a body, e.g. invalid UTF-8; see FileRun.build.
        value = chr(0xDC00 + int(base[5:], 16))
    elif base == "newuuid":
        value = str(uuid.uuid4())
    elif base in variables:
        value = variables[base]
    else:
        raise TestFailure("undefined variable ${%s}" % base)
    for f in filters:
        value = apply_filter(to_text(value), f)
    return value


def subst(text, variables):
    return VAR_RE.sub(lambda m: to_text(resolve(m.group(1), variables)), text)


def subst_json(v, variables):
    """Substitutes ${...} inside the string leaves of a parsed JSON template."""
    if isinstance(v, str):
        m = VAR_RE.fullmatch(v)
        if m:
            return resolve(m.group(1), variables)
        return subst(v, variables)
    if isinstance(v, list):
        return [subst_json(x, variables) for x in v]
    if isinstance(v, dict):
        return {k: subst_json(x, variables) for k, x in v.items()}
    return v


# --- matching ------------------------------------------------------------------------------


def match(pattern, actual, path="$"):
    """Mismatches between a JSON pattern and a value, as a list of strings."""
    if isinstance(pattern, str) and pattern.startswith("$"):
        if pattern.startswith("$$"):
            pattern = pattern[1:]
        else:
            return match_special(pattern, actual, path)
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return ["%s: expected an object, got %s" % (path, json.dumps(actual))]
        out = []
        partial = pattern.get("$partial") is True
        for k, p in pattern.items():
            if k == "$partial":
                continue
            if p == "$absent":
                if k in actual:
                    out.append("%s.%s: expected absent, got %s" % (path, k, json.dumps(actual[k])))
                continue
            if k not in actual:
                out.append("%s.%s: missing" % (path, k))
            else:
                out.extend(match(p, actual[k], "%s.%s" % (path, k)))
        if not partial:
            for k in actual:
                if k not in pattern:
                    out.append("%s.%s: unexpected member %s" % (path, k, json.dumps(actual[k])))
        return out
    if isinstance(pattern, list):
        if not isinstance(actual, list):
            return ["%s: expected an array, got %s" % (path, json.dumps(actual))]
        if len(pattern) != len(actual):
            return ["%s: expected %d elements, got %d" % (path, len(pattern), len(actual))]
        out = []
        for idx, (p, a) in enumerate(zip(pattern, actual)):
            out.extend(match(p, a, "%s[%d]" % (path, idx)))
        return out
    if type(pattern) is not type(actual) or pattern != actual:
        # 1 == 1.0 is fine, True != 1 is not.
        if not (isinstance(pattern, (int, float)) and isinstance(actual, (int, float))
                and not isinstance(pattern, bool) and not isinstance(actual, bool)
                and pattern == actual):
            return ["%s: expected %s, got %s" % (path, json.dumps(pattern), json.dumps(actual))]
    return []


def match_special(p, a, path):
    bad = ["%s: expected %s, got %s" % (path, p, json.dumps(a))]
    if p == "$any":
        return []
    if p in NAMED_RES:
        return [] if isinstance(a, str) and NAMED_RES[p].match(a) else bad
    if p == "$string":
        return [] if isinstance(a, str) else bad
    if p == "$nonempty":
        return [] if isinstance(a, str) and a else bad
    if p == "$int":
        return [] if isinstance(a, int) and not isinstance(a, bool) else bad
    if p == "$bool":
        return [] if isinstance(a, bool) else bad
    if p == "$object":
        return [] if isinstance(a, dict) else bad
    if p == "$array":
        return [] if isinstance(a, list) else bad
    if p.startswith("$len:"):
        return [] if isinstance(a, list) and len(a) == int(p[5:]) else [
            "%s: expected %s, got %s" % (path, p, "%d elements" % len(a)
                                         if isinstance(a, list) else json.dumps(a))]
    if p.startswith("$re:"):
        return [] if isinstance(a, str) and re.fullmatch(p[4:], a) else bad
    if p.startswith("$ne:"):
        return [] if a != p[4:] else bad
    m = re.match(r"^\$ts(>=|<=|>|<|==)(.+)$", p)
    if m:
        if not isinstance(a, str) or not TIMESTAMP_RE.match(a):
            return bad
        x, y = parse_ts(a), parse_ts(m.group(2))
        ok = {">=": x >= y, "<=": x <= y, ">": x > y, "<": x < y, "==": x == y}[m.group(1)]
        return [] if ok else bad
    raise CaseError("unknown matcher %r" % p)


def extract(value, path):
    """The value at a capture path such as data[0].participantSessionId or data.0.x."""
    cur = value
    for part in re.findall(r"[^.\[\]]+", path):
        if isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                raise TestFailure("capture %s: no element %s" % (path, part))
        elif isinstance(cur, dict):
            if part not in cur:
                raise TestFailure("capture %s: no member %s" % (path, part))
            cur = cur[part]
        else:
            raise TestFailure("capture %s: cannot descend into %s" % (path, json.dumps(cur)))
    return cur


def check_invariants(resp, path):
    """What every answer of the server must satisfy, whatever the case expects."""
    rid = resp.headers.get("x-request-id")
    check(rid is not None and UUID_RE.match(rid), "X-Request-Id %r is not a request UUID" % rid)
    if resp.status == 405:
        check(resp.headers.get("allow"), "a 405 answer must list the allowed methods in Allow")
    ctype = resp.headers.get("content-type", "")
    if path.split("?")[0] != "/metrics":
        check(ctype.startswith("application/json"),
              "Content-Type %r is not application/json" % ctype)
        check(resp.json() is not None, "body is not JSON: %r" % resp.text[:200])
    if resp.status >= 400:
        body = resp.json()
        check(isinstance(body, dict) and set(body) == {"code", "message"},
              "an error body must be exactly {code, message}: %r" % resp.text[:300])
        check(isinstance(body["code"], str) and CODE_RE.match(body["code"]),
              "error code %r is not UPPER_SNAKE" % body["code"])
        check(isinstance(body["message"], str) and body["message"].strip(),
              "error message must be a non-empty sentence")


# --- execution -----------------------------------------------------------------------------


class Result:
    def __init__(self, filename, line, title, error=None):
        self.filename, self.line, self.title, self.error = filename, line, title, error

    @property
    def ok(self):
        return self.error is None


class FileRun:
    """Runs one case file against a server. variables: the initial ${...} values."""

    def __init__(self, server, filename, records, variables, verbose=False):
        self.server = server
        self.client = server.client()
        self.filename = filename
        self.records = records
        self.vars = dict(variables)
        self.default_headers = {}
        self.watches = []
        self.snapshot = None
        self.verbose = verbose
        self.requests = 0

    def run(self):
        results = []
        groups = []  # (title, line, records)
        current = ("setup", 1, [])
        for rec in self.records:
            if rec.kind == "case":
                groups.append(current)
                current = (rec.args, rec.line, [])
            else:
                current[2].append(rec)
        groups.append(current)
        for title, line, recs in groups:
            if title == "setup" and not recs:
                continue
            error = None
            try:
                if self.watches and title != "setup" and self.snapshot is None:
                    self.snapshot = self.take_snapshot()
                for rec in recs:
                    try:
                        self.execute(rec)
                    except TestFailure as e:
                        raise TestFailure("line %d (%s %s): %s" % (rec.line, rec.kind, rec.args, e))
                if self.watches and title != "setup":
                    after = self.take_snapshot()
                    before, self.snapshot = self.snapshot, after
                    if before is not None and before != after:
                        raise TestFailure("the case changed watched state:\n%s" % diff_snapshots(
                            before, after))
            except (TestFailure, CaseError, OSError) as e:
                error = "%s: %s" % (type(e).__name__, e) if isinstance(e, OSError) else str(e)
                self.snapshot = None
            if title != "setup" or error:
                results.append(Result(self.filename, line, title, error))
            if title == "setup" and error:
                break  # nothing after a failed setup means anything
        self.client.close()
        return results

    def execute(self, rec):
        k = rec.kind
        if k == "let":
            name, eq, value = rec.args.partition("=")
            if not eq:
                raise CaseError("%s:%d: expected `let name = value`" % (self.filename, rec.line))
            self.vars[name.strip()] = subst(value.strip(), self.vars)
        elif k == "header":
            m = HEADER_LINE.match(rec.args)
            if not m:
                raise CaseError("%s:%d: expected `header Name: value`" % (self.filename, rec.line))
            if (m.group(2) or "") == "<none>":
                self.default_headers.pop(m.group(1).lower(), None)
            else:
                self.default_headers[m.group(1).lower()] = (m.group(1), m.group(2) or "")
        elif k == "sleep":
            time.sleep(int(rec.args) / 1000.0)
        elif k == "fixture":
            self.run_fixture(rec)
        elif k == "watch":
            self.watches.append(rec)
            self.snapshot = None
        elif k == "unwatch":
            self.watches = []
            self.snapshot = None
        elif k in ("request", "then"):
            self.run_request(rec)
        else:
            raise CaseError("%s:%d: unexpected %s" % (self.filename, rec.line, k))

    def run_fixture(self, rec):
        spec, _, out = rec.args.partition("->")
        try:
            words = shlex.split(spec)
        except ValueError as e:
            raise CaseError("%s:%d: %s" % (self.filename, rec.line, e))
        if not words:
            raise CaseError("%s:%d: fixture needs a name" % (self.filename, rec.line))
        args = {}
        for w in words[1:]:
            key, eq, value = w.partition("=")
            if not eq:
                raise CaseError("%s:%d: fixture arguments are key=value" % (self.filename, rec.line))
            args[key] = subst(value, self.vars)
        primary, fields = fixtures.run(words[0], self, args)
        out = out.strip()
        if out:
            self.vars[out] = primary
            for key, value in fields.items():
                self.vars[out + "." + key] = value

    def build(self, rec):
        method, path = rec.args.split(" ", 1)
        path = subst(path.strip(), self.vars)
        headers = {}
        for lname, (name, value) in self.default_headers.items():
            headers[lname] = (name, subst(value, self.vars))
        for name, value in rec.headers:
            if value == "<none>":
                headers.pop(name.lower(), None)
            else:
                headers[name.lower()] = (name, subst(value, self.vars))
        body = None
        if rec.body is not None:
            body = subst(rec.body, self.vars).encode("utf-8", "surrogateescape")
            if "content-type" not in headers and not any(
                    v == "<none>" and n.lower() == "content-type" for n, v in rec.headers):
                headers["content-type"] = ("Content-Type", "application/json")
        return method, path, {n: v for n, v in headers.values()}, body

    def send(self, rec):
        method, path, headers, body = self.build(rec)
        self.requests += 1
        resp = self.client.request(method, path, body=body, headers=headers)
        if self.verbose:
            print("    %s %s -> %r" % (method, path[:120], resp))
        return path, resp

    def run_request(self, rec):
        path, resp = self.send(rec)
        problems = []
        if resp.status != rec.status:
            problems.append("status: expected %d, got %d" % (rec.status, resp.status))
        try:
            check_invariants(resp, path)
        except TestFailure as e:
            problems.append(str(e))
        body = resp.json()
        if rec.code is not None:
            got = body.get("code") if isinstance(body, dict) else None
            if got != rec.code:
                problems.append("code: expected %s, got %s" % (rec.code, got))
        if rec.expect is not None:
            try:
                pattern = json.loads(rec.expect)
            except ValueError as e:
                raise CaseError("%s:%d: expected body is not JSON: %s" % (self.filename, rec.line, e))
            pattern = subst_json(pattern, self.vars)
            if body is None:
                problems.append("body is not JSON")
            else:
                problems.extend(match(pattern, body))
        for text in rec.contains:
            t = subst(text, self.vars)
            if t not in resp.text:
                problems.append("body does not contain %r" % t)
        for name, pat in rec.expect_headers:
            got = resp.headers.get(name.lower())
            pat = subst(pat, self.vars)
            if pat == "<none>":
                if got is not None:
                    problems.append("header %s: expected absent, got %r" % (name, got))
            elif got is None or match(pat, got):
                problems.append("header %s: expected %s, got %r" % (name, pat, got))
        if problems:
            raise TestFailure("; ".join(problems[:12]) + "\n      answer: %r" % resp)
        for p, var in rec.captures:
            self.vars[var] = extract(body, p)

    def take_snapshot(self):
        out = []
        for rec in self.watches:
            path, resp = self.send(rec)
            out.append((rec.args, resp.status, resp.text))
        return out


def diff_snapshots(before, after):
    lines = []
    for (what, s1, b1), (_, s2, b2) in zip(before, after):
        if (s1, b1) != (s2, b2):
            lines.append("      %s\n        before: %d %s\n        after:  %d %s" % (
                what, s1, b1[:400], s2, b2[:400]))
    return "\n".join(lines)
