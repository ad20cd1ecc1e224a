"""The lock policies as ``convoy-server --list-policies --json`` describes them.

The scripts never name policies themselves: "all" means every policy in that list, and a knob
(an option of one policy) is swept, passed and summarised under the name the list gives it.
"""

import json
import re


def load(path):
    """The list of policies from a file holding `convoy-server --list-policies --json`."""
    with open(path, encoding="utf-8") as f:
        value = json.load(f)
    if not isinstance(value, list) or not all(isinstance(p, dict) and "name" in p for p in value):
        raise ValueError(f"{path}: not a list of policies ({{\"name\": ...}} objects)")
    return value


def names(policies):
    return [p["name"] for p in policies]


def expand(words, policies):
    """The policy names in `words` (a list; "all" = every policy), each checked against the list."""
    known = names(policies)
    chosen = []
    for word in words:
        for name in known if word == "all" else [word]:
            if name not in known:
                raise ValueError(f"unknown policy '{name}' (convoy-server lists: {', '.join(known)})")
            if name not in chosen:
                chosen.append(name)
    return chosen


def option(knob):
    """A knob's option name without dashes: 'switch-interval'."""
    return str(knob.get("option", "")).lstrip("-")


def is_duration(knob):
    return "duration" in str(knob.get("type", "")).lower()


def stats_key(knob):
    """The knob's key in the server's stats: as listed, else the option with '-' -> '_' and
    '_ns' for durations."""
    if knob.get("json_key"):
        return knob["json_key"]
    key = option(knob).replace("-", "_")
    return f"{key}_ns" if is_duration(knob) else key


def knobs(policies):
    """Every knob of any policy, once per option, with the names of the policies that have it."""
    found = {}
    for policy in policies:
        for knob in policy.get("knobs") or []:
            entry = found.setdefault(option(knob), dict(knob, policies=[]))
            entry["policies"].append(policy["name"])
    return list(found.values())


def emulating(policies, family):
    """The first policy whose 'emulates' or summary names `family` ('CPython 3', 'Ruby') as a
    word ('CPython 3.2-3.13' names 'CPython 3', 'CPython 30' would not), or None. The list's
    order decides between several."""
    pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(family)}(?![0-9A-Za-z])", re.IGNORECASE)
    for policy in policies:
        emulates = policy.get("emulates") or ""
        texts = (emulates if isinstance(emulates, list) else [emulates]) + [policy.get("summary") or ""]
        if any(pattern.search(str(text)) for text in texts):
            return policy["name"]
    return None


# The interpreter families scripts/reference.sh tells apart, as an emulating policy names them.
FAMILIES = ("CPython 2", "CPython 3", "free-threaded", "PyPy", "Ruby")


def family_of(policies, name):
    """The family that policy `name` is the emulating policy of ('CPython 3' for py3), or None."""
    return next((f for f in FAMILIES if emulating(policies, f) == name), None)
