"""The OOM killers' own settings, from their command lines and config files, as policy options.

Pure parsers: text in, `{option: value}` out in the option names of the
matching policy (earlyoom, nohang, the oomd plugins, kubelet-eviction), all
values strings as `--option` takes them. A setting that cannot be read or
has no policy option is left out, so the policy's default stands. Keys of
the form `POLICY.KEY` belong to one policy of a daemon that has several
(oomd's plugins); bare keys to the daemon's only policy.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence

# earlyoom 1.7–1.9 getopt: the short options that take an argument.
_EARLYOOM_ARG = set("msMSrNP")
_EARLYOOM_LONG_ARG = {"prefer": "prefer", "avoid": "avoid", "ignore": "ignore"}
_EARLYOOM_LONG_FLAG = {"sort-by-rss": "sort_by_rss", "ignore-root-user": "ignore_root_user"}
_EARLYOOM_VERSION = re.compile(rb"(?:^|\x00)earlyoom v(\d+(?:\.\d+)+)\n?\x00")


def _first_number(raw: str) -> float | None:
    """`5` of `-m 5,2` (the kill percentage after the comma is earlyoom's half by default)."""
    try:
        return float(raw.split(",", 1)[0].strip())
    except ValueError:
        return None


def earlyoom_args(argv: Sequence[str]) -> dict[str, str]:
    """earlyoom's options from its argv (argv[0] included), as getopt_long reads them."""
    found: dict[str, str] = {}
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name in _EARLYOOM_LONG_ARG:
                if not eq and i < len(args):
                    value, i = args[i], i + 1
                found[name] = value
            elif name in _EARLYOOM_LONG_FLAG:
                found[name] = "true"
            continue
        if not arg.startswith("-") or arg == "-":
            continue
        j = 1
        while j < len(arg):
            letter = arg[j]
            if letter in _EARLYOOM_ARG:
                value = arg[j + 1:]
                if not value and i < len(args):
                    value, i = args[i], i + 1
                found[letter] = value
                break
            found[letter] = ""
            j += 1
    return found


def earlyoom_settings(argv: Sequence[str], mem_total: int | None) -> dict[str, str]:
    """Policy options from earlyoom's command line; `-M` (KiB) becomes a percentage of MemTotal."""
    args = earlyoom_args(argv)
    out: dict[str, str] = {}
    for opt in ("prefer", "avoid", "ignore"):
        if args.get(opt):
            out[opt] = args[opt]
    for flag, opt in _EARLYOOM_LONG_FLAG.items():
        if flag in args:
            out[opt] = "true"
    percents = []
    if "m" in args and (m := _first_number(args["m"])) is not None:
        percents.append(m)
    if "M" in args and mem_total and (kib := _first_number(args["M"])) is not None:
        percents.append(min(100.0, kib * 1024 * 100 / mem_total))
    if percents:
        out["mem_min_percent"] = f"{min(percents):g}"  # the lower of -m and -M wins, as in earlyoom
    if "s" in args and (s := _first_number(args["s"])) is not None:
        out["swap_min_percent"] = f"{min(100.0, s):g}"
    return out


def earlyoom_default_args(text: str) -> list[str] | None:
    """EARLYOOM_ARGS of /etc/default/earlyoom (a shell fragment), as argv without argv[0]."""
    value = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("EARLYOOM_ARGS="):
            value = line.partition("=")[2]
    if value is None:
        return None
    try:
        parts = shlex.split(value)
    except ValueError:
        return None
    if len(parts) == 1:  # EARLYOOM_ARGS="-m 5 --prefer 'x'": the quotes held the whole list
        try:
            parts = shlex.split(parts[0])
        except ValueError:
            return None
    return parts


def earlyoom_version(binary: bytes) -> str | None:
    """The release a binary prints with -v (`earlyoom v1.7`), found in its read-only data."""
    m = _EARLYOOM_VERSION.search(binary)
    return m.group(1).decode() if m else None


# -- nohang ------------------------------------------------------------------------------

_NOHANG_KEYS = ("soft_threshold_min_mem", "soft_threshold_min_swap", "hard_threshold_min_mem",
                "hard_threshold_min_swap", "min_badness", "ignore_positive_oom_score_adj")
_SIZE_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _nohang_percent(raw: str, total: int | None) -> str | None:
    """nohang writes `5 %` or a size such as `500 M`: the policy takes a percentage of the total."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([%KMG])\s*", raw)
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        return f"{min(value, 100.0):g}"
    if not total:
        return None
    return f"{min(100.0, value * _SIZE_UNITS[unit] * 100 / total):g}"


def nohang_settings(text: str, mem_total: int | None, swap_total: int | None) -> dict[str, str]:
    """nohang.conf's thresholds and `@BADNESS_ADJ_RE_*` lines, as the nohang policy's options."""
    out: dict[str, str] = {}
    adjustments = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@BADNESS_ADJ_RE_"):
            adjustments.append(line)
            continue
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or key not in _NOHANG_KEYS:
            continue
        if key.endswith("_mem") or key.endswith("_swap"):
            pct = _nohang_percent(value, mem_total if key.endswith("_mem") else swap_total)
            if pct is not None:
                out[key] = pct
        elif key == "min_badness" and value.isascii() and value.isdigit():
            out[key] = value
        elif key == "ignore_positive_oom_score_adj" and value.lower() in ("true", "false"):
            out[key] = value.lower()
    if adjustments:
        out["badness_adj"] = "\n".join(adjustments)
    return out


# -- oomd -------------------------------------------------------------------------------

OOMD_PLUGINS = {
    "kill_by_memory_size_or_growth": "oomd-size-or-growth",
    "kill_by_swap_usage": "oomd-swap",
    "kill_by_pressure": "oomd-pressure",
    "kill_by_pg_scan": "oomd-pgscan",
}
# The plugin arguments each oomd policy takes as options (a test checks them against the policies).
OOMD_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "oomd-size-or-growth": ("cgroup", "recursive", "size_threshold", "min_growth_ratio", "growing_size_percentile"),
    "oomd-swap": ("cgroup", "recursive", "threshold", "biased_swap_kill"),
    "oomd-pressure": ("cgroup", "recursive", "resource"),
    "oomd-pgscan": ("cgroup", "recursive"),
}


def oomd_settings(text: str, options: Mapping[str, Sequence[str]] = OOMD_OPTIONS) -> tuple[dict[str, str], list[str]]:
    """`POLICY.KEY` options from oomd's JSON config, and the rulesets they came from.

    A plugin argument with no policy option (`post_action_delay`, `dry`) is
    left out. A plugin used by several rulesets takes the first one's arguments.
    """
    data = json.loads(text)
    rulesets = data.get("rulesets") if isinstance(data, dict) else None
    out: dict[str, str] = {}
    names: list[str] = []
    for ruleset in rulesets if isinstance(rulesets, list) else ():
        if not isinstance(ruleset, dict):
            continue
        for action in ruleset.get("actions") or ():
            if not isinstance(action, dict):
                continue
            policy = OOMD_PLUGINS.get(str(action.get("name")))
            if policy is None or any(k.startswith(policy + ".") for k in out):
                continue
            given = action.get("args")
            args = given if isinstance(given, dict) else {}
            out[f"{policy}.cgroup"] = str(args.get("cgroup", ""))
            for key, value in args.items():
                if key != "cgroup" and key in options.get(policy, ()):
                    out[f"{policy}.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
            names.append(str(ruleset.get("name", "?")))
    return out, names


# -- kubelet ----------------------------------------------------------------------------

_MEMORY_SIGNAL = re.compile(r"memory\.available\s*<\s*([0-9.]+(?:[KMGTPE]i?)?%?)")


def kubelet_flag_threshold(argv: Sequence[str]) -> str | None:
    """`--eviction-hard=memory.available<100Mi,...` from the kubelet's command line."""
    for i, arg in enumerate(argv):
        value = None
        if arg.startswith("--eviction-hard="):
            value = arg.partition("=")[2]
        elif arg == "--eviction-hard" and i + 1 < len(argv):
            value = argv[i + 1]
        if value is not None and (m := _MEMORY_SIGNAL.search(value)):
            return m.group(1)
    return None


def kubelet_config_path(argv: Sequence[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.partition("=")[2]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def kubelet_config_threshold(text: str) -> str | None:
    """`evictionHard: {memory.available: "100Mi"}` from a KubeletConfiguration, YAML or JSON.

    The file is usually block YAML written by kubeadm; only this one key is
    needed, so it is read line by line rather than by a YAML library.
    """
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return None
        hard = data.get("evictionHard") if isinstance(data, dict) else None
        value = hard.get("memory.available") if isinstance(hard, dict) else None
        return str(value) if value is not None else None
    inside = None
    for line in text.splitlines():
        bare = line.split("#", 1)[0].rstrip()
        if not bare.strip():
            continue
        indent = len(bare) - len(bare.lstrip())
        key, _, value = bare.strip().partition(":")
        if inside is not None and indent <= inside:
            inside = None
        if inside is None and key == "evictionHard":
            if value.strip().startswith("{"):
                m = re.search(r"[\"']?memory\.available[\"']?\s*:\s*[\"']?([^,\"'}\s]+)", value)
                return m.group(1) if m else None
            inside = indent
        elif inside is not None and key.strip("\"'") == "memory.available":
            return value.strip().strip("\"'") or None
    return None
