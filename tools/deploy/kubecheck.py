#!/usr/bin/python3
"""kubecheck.py -- check Kubernetes manifests offline against the API's
schema, as the Kubernetes Python client (Debian's python3-kubernetes) models
it: its classes are generated from the API's OpenAPI document.

  kubecheck.py FILE...

Every YAML document of every FILE must be an object of a kind the API has
under its apiVersion, with a namespace exactly when the kind is namespaced,
no field the schema does not have, every required field, and values of the
schema's types.  Each problem is printed as FILE: KIND/NAME: PATH: WHAT.
Exit status 0 when there is none, 1 when there are, 2 on a usage error.
"""

import re
import sys

import yaml

try:
    import kubernetes.client as kc
except ImportError:
    print("kubecheck: python3-kubernetes is not installed", file=sys.stderr)
    sys.exit(2)

PRIMITIVES = {"str": (str,), "int": (int,), "float": (int, float),
              "bool": (bool,), "datetime": (str,), "date": (str,)}


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def api_class(group, version):
    """The client's API class of a group version, e.g. AppsV1Api."""
    if group == "":
        base = "Core"
    else:
        short = group[:-len(".k8s.io")] if group.endswith(".k8s.io") else group
        base = "".join(p.capitalize() for p in short.split("."))
    return getattr(kc, base + version.capitalize() + "Api", None)


class Checker:
    def __init__(self, where):
        self.where = where
        self.problems = []

    def bad(self, path, what):
        self.problems.append("%s: %s: %s" % (self.where, path or ".", what))

    def value(self, typ, v, path):
        """Check V against the client's type string TYP; returns the model
        object (or V itself) built from it, None after a problem."""
        if v is None:
            return None
        m = re.fullmatch(r"list\[(.*)\]", typ)
        if m:
            if not isinstance(v, list):
                self.bad(path, "a list expected, got %r" % (v,))
                return None
            return [self.value(m.group(1), x, "%s[%d]" % (path, i))
                    for i, x in enumerate(v)]
        m = re.fullmatch(r"dict\((\w+), (.*)\)", typ)
        if m:
            if not isinstance(v, dict):
                self.bad(path, "a map expected, got %r" % (v,))
                return None
            return {k: self.value(m.group(2), x, "%s.%s" % (path, k))
                    for k, x in v.items()}
        if typ == "object":
            return v
        if typ in PRIMITIVES:
            ok = isinstance(v, PRIMITIVES[typ])
            if typ in ("int", "float") and isinstance(v, bool):
                ok = False
            if not ok:
                self.bad(path, "%s expected, got %r" % (typ, v))
            return v
        cls = getattr(kc, typ, None)
        if cls is None:
            self.bad(path, "no type %s in the schema" % typ)
            return None
        if not isinstance(v, dict):
            self.bad(path, "an object (%s) expected, got %r" % (typ, v))
            return None
        fields = {j: p for p, j in cls.attribute_map.items()}
        kw = {}
        n = len(self.problems)
        for k, x in v.items():
            sub = "%s.%s" % (path, k) if path else k
            if k not in fields:
                self.bad(sub, "unknown field %r in %s" % (k, typ))
                continue
            kw[fields[k]] = self.value(cls.openapi_types[fields[k]], x, sub)
        if len(self.problems) > n:
            return None
        try:
            return cls(**kw)
        except (TypeError, ValueError) as e:
            # The models refuse a missing required field and a value
            # outside an enumeration.
            self.bad(path, "%s: %s" % (typ, e))
            return None


def check_doc(fname, doc, out):
    if doc is None:
        return
    if not isinstance(doc, dict):
        out.append("%s: a document is not an object" % fname)
        return
    av, kind = doc.get("apiVersion"), doc.get("kind")
    name = (doc.get("metadata") or {}).get("name", "?")
    c = Checker("%s: %s/%s" % (fname, kind, name))
    if not isinstance(av, str) or not isinstance(kind, str):
        c.bad("", "apiVersion and kind are required")
        out.extend(c.problems)
        return
    group, _, version = av.rpartition("/")
    api = api_class(group, version)
    if api is None:
        c.bad("apiVersion", "no API %s" % av)
        out.extend(c.problems)
        return
    s = snake(kind)
    namespaced = hasattr(api, "create_namespaced_" + s)
    if not namespaced and not hasattr(api, "create_" + s):
        c.bad("kind", "no kind %s in %s" % (kind, av))
        out.extend(c.problems)
        return
    ns = (doc.get("metadata") or {}).get("namespace")
    if namespaced and not ns:
        c.bad("metadata.namespace", "%s is namespaced: namespace missing"
              % kind)
    if not namespaced and ns:
        c.bad("metadata.namespace", "%s is cluster-scoped" % kind)
    c.value(version.capitalize() + kind, doc, "")
    out.extend(c.problems)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = []
    count = 0
    for fname in argv[1:]:
        try:
            with open(fname) as f:
                docs = list(yaml.safe_load_all(f))
        except (OSError, yaml.YAMLError) as e:
            problems.append("%s: %s" % (fname, e))
            continue
        for d in docs:
            count += d is not None
            check_doc(fname, d, problems)
    for p in problems:
        print(p)
    if not problems:
        print("kubecheck: %d objects, no problem" % count)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
