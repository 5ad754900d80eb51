"""state - what the stand-ins share: scenario, counters, faults, tokens, records.

SYNOPSIS
    st = State(dir, scenario, record_mode, msgdir=None)
    st.scenario                         current Scenario (swapped whole)
    st.count(name, n=1)                 bump a counter
    st.stats() -> dict                  counters for GET /stats
    st.reset()                          counters back to zero
    st.faults / st.set_faults(dict)     fault table (see README.md)
    st.take_fault(name) -> dict|None    consume one occurrence of a fault
    st.pick(name) -> bool               does a count/every/probability fault fire now
    st.issue_token(app, lifetime)       new opaque token (a str)
    st.lookup_token(token)              its grant dict or None
    st.revoke_tokens()                  forget every token issued
Issued tokens are also kept in dir/tokens.jsonl (0600) so that they stay
valid across a restart; message numbers continue after existing records.
    st.jti_seen(client_id, jti, exp)    True if replayed (and remembers it)
    st.session_open(mailbox) -> bool    False when the mailbox has too many
    st.session_close(mailbox)
    st.hold(mailbox, n)                 n sessions held by other hosts (count
                                        against the limit; 0 frees them)
    st.rate_delay(mbox, limit, window)  seconds to hold a message (rate limit)
    st.quota_take(mbox, nrcpt, per_day) False when over the recipient quota
    st.record(content, meta) -> id      store an accepted message
    st.messages() -> list               envelopes of recorded messages

Everything is guarded by one lock; the critical sections are tiny.
"""
import base64
import collections
import json
import os
import random
import secrets
import threading
import time

COUNTERS = ("token_requests", "tokens_issued", "token_errors",
            "smtp_connections", "tls_handshakes", "auth_attempts", "auth_ok",
            "auth_failed", "messages", "messages_refused", "round_trips",
            "concurrency_refused", "dropped_in_data", "faults_fired",
            "token_connections", "idle_timeouts", "rate_delayed", "quota_refused",
            "graph_requests", "graph_connections", "graph_sent", "graph_errors",
            "graph_throttled", "graph_max_inflight")


def _b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _jwt_shaped(grant):
    """_jwt_shaped - a token that reads like Entra's JWT (not signed: this
    stand-in checks it by lookup, where Graph checks the signature)."""
    now = int(time.time())
    claims = {"aud": grant["aud"], "iss": "https://sts.windows.net/%s/" % grant["tenant"],
              "iat": now, "nbf": now, "exp": int(grant["expires"]),
              "appid": grant["client_id"], "tid": grant["tenant"],
              "roles": grant["roles"], "idtyp": "app",
              "jti": _b64url(secrets.token_bytes(12))}
    head = {"typ": "JWT", "alg": "RS256", "x5t": _b64url(secrets.token_bytes(20))}
    return ".".join([_b64url(json.dumps(head).encode()),
                     _b64url(json.dumps(claims).encode()),
                     _b64url(secrets.token_bytes(256))])


class State:
    def __init__(self, d, scenario, record_mode="full", msgdir=None):
        self.dir = d
        self.msgdir = msgdir or os.path.join(d, "messages")
        os.makedirs(self.msgdir, exist_ok=True)
        self.record_mode = record_mode
        self.scenario = scenario
        self.lock = threading.Lock()
        self.tokens = {}
        self.jtis = {}
        self.sessions = {}
        self.graph_inflight = {}
        self.held = {}
        self.rate = {}
        self.quota = {}
        self.faults = {}
        self.rngs = {}
        self.fault_seen = {}
        self.envelopes = []
        self.next_id = 1 + max([int(f[:6]) for f in os.listdir(self.msgdir)
                                if f[:6].isdigit()] or [0])
        self.token_file = os.path.join(d, "tokens.jsonl")
        self._load_tokens()
        self.reset()

    def reset(self):
        with self.lock:
            self.c = {k: 0 for k in COUNTERS}
            self.max_conc = {m: n for m, n in self.sessions.items() if n}
            self.rt_last = 0

    def count(self, name, n=1):
        with self.lock:
            self.c[name] = self.c.get(name, 0) + n

    def stats(self):
        with self.lock:
            s = dict(self.c)
            s["max_concurrent"] = dict(self.max_conc)
            s["concurrent"] = {m: n for m, n in self.sessions.items() if n}
            s["held"] = {m: n for m, n in self.held.items() if n}
            s["round_trips_last"] = self.rt_last
            m = s["messages"]
            s["round_trips_avg"] = round(s["round_trips"] / m, 3) if m else 0
            s["recorded"] = self.next_id - 1
            return s

    # faults

    def set_faults(self, upd, clear=False):
        with self.lock:
            if clear:
                self.faults = {}
            for k, v in upd.items():
                if v is None:
                    self.faults.pop(k, None)
                else:
                    self.faults[k] = dict(v) if isinstance(v, dict) else v
                    self.fault_seen[k] = 0
                    if isinstance(v, dict) and "seed" in v:
                        self.rngs[k] = random.Random(v["seed"])
            return dict(self.faults)

    def fault(self, name):
        with self.lock:
            return self.faults.get(name)

    def pick(self, name):
        """pick - whether fault name fires for this occurrence.

        A fault dict may have "count" (the next N occurrences; consumed),
        "every" (each Nth occurrence), "probability" (with "seed"); with
        none of these it fires every time until cleared."""
        with self.lock:
            f = self.faults.get(name)
            if not isinstance(f, dict):
                return None
            self.fault_seen[name] = self.fault_seen.get(name, 0) + 1
            fire = True
            if "every" in f:
                fire = self.fault_seen[name] % max(1, int(f["every"])) == 0
            elif "probability" in f:
                rng = self.rngs.setdefault(name, random.Random(f.get("seed")))
                fire = rng.random() < float(f["probability"])
            if fire and "count" in f:
                f["count"] = int(f["count"]) - 1
                if f["count"] <= 0:
                    del self.faults[name]
            if fire:
                self.c["faults_fired"] += 1
            return f if fire else None

    # tokens

    def _load_tokens(self):
        """_load_tokens - tokens issued before a restart stay valid, as in Entra."""
        try:
            with open(self.token_file) as f:
                for line in f:
                    t = json.loads(line)
                    self.tokens[t.pop("token")] = t
        except (OSError, ValueError):
            pass

    def issue_token(self, app, lifetime, aud="https://outlook.office365.com"):
        grant = {"client_id": app["client_id"], "tenant": app["_tenant_id"],
                 "expires": time.time() + lifetime, "aud": aud}
        if aud == "https://graph.microsoft.com":
            # Graph's app-only tokens are JWTs: aud and roles readable.
            grant["roles"] = list(app.get("graph_roles", []))
            tok = _jwt_shaped(grant)
        else:
            # Opaque, about 2 KB like the real ones, URL-safe.
            tok = "EwB" + base64.urlsafe_b64encode(secrets.token_bytes(1500)).decode().rstrip("=")
        with self.lock:
            self.tokens[tok] = grant
            self.c["tokens_issued"] += 1
            fd = os.open(self.token_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, (json.dumps(dict(grant, token=tok)) + "\n").encode())
            os.close(fd)
        return tok

    def inflight(self, mbox, delta):
        """inflight - Graph requests in flight for a mailbox after adding delta."""
        with self.lock:
            n = self.graph_inflight.get(mbox, 0) + delta
            self.graph_inflight[mbox] = n
            if n > self.c["graph_max_inflight"]:
                self.c["graph_max_inflight"] = n
            return n

    def lookup_token(self, tok):
        with self.lock:
            return self.tokens.get(tok)

    def revoke_tokens(self):
        with self.lock:
            n = len(self.tokens)
            self.tokens = {}
            if os.path.exists(self.token_file):
                os.unlink(self.token_file)
            return n

    def jti_seen(self, client_id, jti, exp):
        now = time.time()
        with self.lock:
            for k in [k for k, e in self.jtis.items() if e < now - 600]:
                del self.jtis[k]
            key = (client_id, jti)
            if key in self.jtis:
                return True
            self.jtis[key] = exp
            return False

    # sessions per mailbox

    def session_open(self, mbox, limit):
        with self.lock:
            n = self.sessions.get(mbox, 0)
            if n + self.held.get(mbox, 0) >= limit:
                self.c["concurrency_refused"] += 1
                return False
            self.sessions[mbox] = n + 1
            self.max_conc[mbox] = max(self.max_conc.get(mbox, 0), n + 1)
            return True

    def session_close(self, mbox):
        with self.lock:
            self.sessions[mbox] = max(0, self.sessions.get(mbox, 0) - 1)

    def hold(self, mbox, n):
        """hold - another host holds n sessions of mbox (Exchange counts them
        against its limit; our own sessions stay as they are)."""
        with self.lock:
            self.held[mbox.lower()] = max(0, int(n))
            return {m: k for m, k in self.held.items() if k}

    # Exchange's per-mailbox limits (as Microsoft documents them)

    def rate_delay(self, mbox, limit, window=60.0):
        """rate_delay - seconds to hold a message so that at most limit are
        submitted per rolling window (excess is delayed, not refused)."""
        now = time.time()
        with self.lock:
            q = self.rate.setdefault(mbox, collections.deque())
            while q and q[0] <= now - window:
                q.popleft()
            at = now if len(q) < limit else q[-limit] + window
            q.append(at)
            if at > now:
                self.c["rate_delayed"] += 1
            return at - now

    def quota_take(self, mbox, nrcpt, per_day):
        """quota_take - False when nrcpt more would pass per_day in 24 hours."""
        now = time.time()
        with self.lock:
            q = self.quota.setdefault(mbox, collections.deque())
            while q and q[0][0] <= now - 86400:
                q.popleft()
            if sum(n for _, n in q) + nrcpt > per_day:
                return False
            q.append((now, nrcpt))
            return True

    # records

    def record(self, content, meta, round_trips):
        with self.lock:
            n = self.next_id
            self.next_id += 1
            self.c["messages"] += 1
            self.c["round_trips"] += round_trips
            self.rt_last = round_trips
        meta = dict(meta, id="%06d" % n, size=len(content), round_trips=round_trips)
        base = os.path.join(self.msgdir, "%06d" % n)
        if self.record_mode == "full":
            with open(base + ".eml", "wb") as f:
                f.write(content)
        if self.record_mode != "none":
            with open(base + ".json.tmp", "w") as f:
                json.dump(meta, f)
            os.rename(base + ".json.tmp", base + ".json")
        with self.lock:
            self.envelopes.append(meta)
            if self.record_mode == "none" and len(self.envelopes) > 2000:
                del self.envelopes[:1000]      # benchmarks: bounded memory
        return n

    def messages(self):
        with self.lock:
            return list(self.envelopes)
