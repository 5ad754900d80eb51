"""scenario - the directory and mailboxes the stand-ins pretend to host.

SYNOPSIS
    sc = Scenario(data, client_dir)    validate + index a scenario dict
    sc.merged(fragment) -> Scenario    a new scenario with fragment merged in
    sc.tenant(name)                    tenant dict by GUID or domain, or None
    sc.app(tenant_id, client_id)       app registered in that tenant, or None
    sc.app_by_id(client_id)            app in any tenant, or None
    sc.mailbox(address)                mailbox dict, or None
    sc.cert_for(app, x5t, x5t_s256)    registered certificate object, or None
    sc.smtp_auth_disabled(mailbox)     None, "Tenant" or "Mailbox"
    sc.may_send_as(app, mailbox, addr) SendAs check
    sc.data                            the effective JSON (for GET /scenario)

A Scenario is immutable once built; the control API swaps whole objects,
so a session never sees half an update. Merging: objects merge key by key;
the lists "tenants", "apps" and "mailboxes" merge item by item on their key
(id, client_id, address); other lists are replaced. Certificates given as
{"generate": NAME} are created once in client_dir (NAME.pem, NAME.key) and
kept as {"generate": NAME, "pem": ...}.
"""
import copy
import os

import pki

DEFAULTS = {
    "token": {"expires_in": 3599, "ext_expires_in": 3599, "jwt_clock_skew": 300},
    "smtp": {"host": "BN0PR04CA0101", "size": 157286400, "max_size": 157286400,
             "max_recipients": 500, "max_sessions_per_mailbox": 3,
             "idle_timeout": 600, "messages_per_minute": 0, "recipients_per_day": 0},
    "tenants": [], "apps": [], "mailboxes": [],
}
LIST_KEYS = {"tenants": "id", "apps": "client_id", "mailboxes": "address"}


def _merge(base, frag):
    """_merge - frag merged into a deep copy of base (see module comment)."""
    out = copy.deepcopy(base)
    for k, v in frag.items():
        if k in LIST_KEYS and isinstance(v, list):
            out[k] = _merge_list(out.get(k, []), v, LIST_KEYS[k])
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        elif v is None:
            out.pop(k, None)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _merge_list(items, frag, key):
    out = [copy.deepcopy(i) for i in items]
    where = {str(i.get(key, "")).lower(): n for n, i in enumerate(out)}
    for item in frag:
        n = where.get(str(item.get(key, "")).lower())
        if n is None:
            where[str(item.get(key, "")).lower()] = len(out)
            out.append(copy.deepcopy(item))
        else:
            out[n] = _merge(out[n], item)
    return out


class Scenario:
    def __init__(self, data, client_dir):
        self.client_dir = client_dir
        self.data = _merge(DEFAULTS, data)
        self._index()

    def merged(self, frag):
        return Scenario(_merge(self.data, frag), self.client_dir)

    def _index(self):
        self.tenants = {}
        for t in self.data["tenants"]:
            for name in [t["id"]] + list(t.get("domains", [])):
                self.tenants[name.lower()] = t
        self.apps = {}
        for a in self.data["apps"]:
            t = self.tenant(a.get("tenant", ""))
            if t is None:
                raise ValueError("app %s: unknown tenant %r" %
                                 (a.get("client_id"), a.get("tenant")))
            a["_tenant_id"] = t["id"]
            self.apps[a["client_id"].lower()] = a
            self._index_certs(a)
        self.mailboxes = {m["address"].lower(): m for m in self.data["mailboxes"]}

    def _index_certs(self, app):
        app["_certs"] = {}
        for c in app.get("certificates", []):
            if "pem" not in c and "file" in c:
                with open(c["file"]) as f:
                    c["pem"] = f.read()
            if "pem" not in c and "generate" in c:
                _, _, c["pem"] = self._generated(c["generate"])
            x5t, x5t256, cert = pki.thumbprints(c["pem"])
            app["_certs"][("x5t", x5t)] = cert
            app["_certs"][("x5t#S256", x5t256)] = cert

    def _generated(self, name):
        os.makedirs(self.client_dir, exist_ok=True)
        path = os.path.join(self.client_dir, name + ".pem")
        if os.path.exists(path):
            with open(path) as f:
                return path, path[:-4] + ".key", f.read()
        return pki.make_client_cert(self.client_dir, name)

    def public(self):
        """public - the scenario without the private index fields."""
        def strip(o):
            if isinstance(o, dict):
                return {k: strip(v) for k, v in o.items() if not k.startswith("_")}
            if isinstance(o, list):
                return [strip(v) for v in o]
            return o
        return strip(self.data)

    def tenant(self, name):
        return self.tenants.get(str(name).lower())

    def app(self, tenant_id, client_id):
        a = self.apps.get(str(client_id).lower())
        return a if a is not None and a["_tenant_id"] == tenant_id else None

    def app_by_id(self, client_id):
        return self.apps.get(str(client_id).lower())

    def mailbox(self, address):
        return self.mailboxes.get(str(address).lower())

    def cert_for(self, app, x5t, x5t_s256):
        if x5t_s256:
            return app["_certs"].get(("x5t#S256", x5t_s256))
        return app["_certs"].get(("x5t", x5t))

    def mailbox_tenant(self, mbox):
        """mailbox_tenant - a mailbox belongs to the tenant of its domain."""
        if mbox.get("tenant"):
            return self.tenant(mbox["tenant"])
        return self.tenant(mbox["address"].rsplit("@", 1)[-1])

    def smtp_auth_disabled(self, mbox):
        """smtp_auth_disabled - the per-mailbox setting wins over the tenant's."""
        if mbox.get("smtp_auth") is not None:
            return None if mbox["smtp_auth"] else "Mailbox"
        t = self.mailbox_tenant(mbox)
        return "Tenant" if t and t.get("smtp_auth_disabled") else None

    def has_access(self, app, address):
        acc = [a.lower() for a in app.get("mailbox_access", [])]
        return "*" in acc or address.lower() in acc

    def may_send_as(self, app, mbox, addr):
        addr = addr.lower()
        if addr == mbox["address"].lower():
            return True
        allowed = [a.lower() for a in mbox.get("send_as", []) + app.get("send_as", [])]
        return addr in allowed or "*" in allowed
