"""Which Debian archive the host's apt uses for a suite (for a base image made with debootstrap)."""

import glob
import re


def _one_line(text, suite):
    """URIs of `deb [options] URI SUITE COMPONENTS...` lines."""
    for line in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(line) >= 3 and line[0] == "deb" and line[2] == suite:
            yield line[1]


def _deb822(text, suite):
    """URIs of enabled `Types: deb` stanzas whose Suites include SUITE."""
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "\t", "#")):
                fields[key.strip().lower()] = value.strip()
        if ("deb" in fields.get("types", "").split() and suite in fields.get("suites", "").split()
                and fields.get("enabled", "yes").lower() != "no" and fields.get("uris")):
            yield fields["uris"].split()[0]


def sources(suite, root="/etc/apt"):
    """Every archive URI the host's apt lists for SUITE, in the order apt reads its files."""
    found = []
    for path in [f"{root}/sources.list"] + sorted(glob.glob(f"{root}/sources.list.d/*.list")):
        found += list(_one_line(_read(path), suite))
    for path in sorted(glob.glob(f"{root}/sources.list.d/*.sources")):
        found += list(_deb822(_read(path), suite))
    return found


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""
